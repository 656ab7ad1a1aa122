"""consortium chain: checkpoints, cosignatures, hosted witness state, equivocation evidence

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# signed checkpoints and cosignatures are evidence: never rewritten, like the log itself
_APPEND_ONLY = ("chain_checkpoints", "chain_cosignatures", "chain_equivocations")


def upgrade() -> None:
    op.create_table(
        "chain_checkpoints",
        sa.Column("log_id", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("root", sa.LargeBinary(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("signed_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("log_id", "size"),
    )
    op.create_table(
        "chain_cosignatures",
        sa.Column("log_id", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("witness", sa.String(length=255), nullable=False),
        sa.Column("line", sa.Text(), nullable=False),
        sa.Column("cosigned_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("log_id", "size", "witness"),
    )
    op.create_table(
        "chain_witness_state",
        sa.Column("log_id", sa.String(length=64), nullable=False),
        sa.Column("witness", sa.String(length=255), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("log_id", "witness"),
    )
    op.create_table(
        "chain_equivocations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("log_id", sa.String(length=64), nullable=False),
        sa.Column("witness", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("first_note", sa.Text(), nullable=False),
        sa.Column("second_note", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("detected_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    if op.get_bind().dialect.name == "postgresql":
        # xindai_append_only() comes from migration 0003
        for table in _APPEND_ONLY:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}"
                " FOR EACH ROW EXECUTE FUNCTION xindai_append_only()"
            )
        op.execute(
            "CREATE FUNCTION xindai_witness_grows() RETURNS trigger LANGUAGE plpgsql AS $$"
            " BEGIN IF TG_OP = 'DELETE' OR NEW.size < OLD.size THEN"
            " RAISE EXCEPTION 'a witness never goes back to a smaller tree'; END IF;"
            " RETURN NEW; END $$"
        )
        op.execute(
            "CREATE TRIGGER chain_witness_state_grows BEFORE UPDATE OR DELETE"
            " ON chain_witness_state FOR EACH ROW EXECUTE FUNCTION xindai_witness_grows()"
        )
    else:
        for table in _APPEND_ONLY:
            for event in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table}"
                    f" BEGIN SELECT RAISE(ABORT, 'append-only: {event} on {table} refused'); END"
                )
        op.execute(
            "CREATE TRIGGER chain_witness_state_grows BEFORE UPDATE ON chain_witness_state"
            " WHEN NEW.size < OLD.size"
            " BEGIN SELECT RAISE(ABORT, 'a witness never goes back to a smaller tree'); END"
        )
        op.execute(
            "CREATE TRIGGER chain_witness_state_no_delete BEFORE DELETE ON chain_witness_state"
            " BEGIN SELECT RAISE(ABORT, 'a witness never goes back to a smaller tree'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in _APPEND_ONLY:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        op.execute("DROP TRIGGER IF EXISTS chain_witness_state_grows ON chain_witness_state")
        op.execute("DROP FUNCTION IF EXISTS xindai_witness_grows()")
    op.drop_table("chain_equivocations")
    op.drop_table("chain_witness_state")
    op.drop_table("chain_cosignatures")
    op.drop_table("chain_checkpoints")
