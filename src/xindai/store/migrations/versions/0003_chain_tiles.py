"""consortium chain: append-only entries, subtree hashes and log heads

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_APPEND_ONLY = ("chain_entries", "chain_nodes")


def upgrade() -> None:
    op.create_table(
        "chain_heads",
        sa.Column("log_id", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("log_id"),
    )
    op.create_table(
        "chain_entries",
        sa.Column("log_id", sa.String(length=64), nullable=False),
        sa.Column("idx", sa.BigInteger(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("log_id", "idx"),
    )
    op.create_table(
        "chain_nodes",
        sa.Column("log_id", sa.String(length=64), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("idx", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("log_id", "level", "idx"),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION xindai_append_only() RETURNS trigger LANGUAGE plpgsql AS $$"
            " BEGIN RAISE EXCEPTION 'append-only: % on % refused', TG_OP, TG_TABLE_NAME; END $$"
        )
        op.execute(
            "CREATE FUNCTION xindai_head_grows() RETURNS trigger LANGUAGE plpgsql AS $$"
            " BEGIN IF TG_OP = 'DELETE' OR NEW.size < OLD.size OR NEW.log_id <> OLD.log_id THEN"
            " RAISE EXCEPTION 'append-only: a log head only grows'; END IF; RETURN NEW; END $$"
        )
        for table in _APPEND_ONLY:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}"
                " FOR EACH ROW EXECUTE FUNCTION xindai_append_only()"
            )
        op.execute(
            "CREATE TRIGGER chain_heads_grow BEFORE UPDATE OR DELETE ON chain_heads"
            " FOR EACH ROW EXECUTE FUNCTION xindai_head_grows()"
        )
    else:
        for table in _APPEND_ONLY:
            for event in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table}"
                    f" BEGIN SELECT RAISE(ABORT, 'append-only: {event} on {table} refused'); END"
                )
        op.execute(
            "CREATE TRIGGER chain_heads_grow BEFORE UPDATE ON chain_heads"
            " WHEN NEW.size < OLD.size OR NEW.log_id <> OLD.log_id"
            " BEGIN SELECT RAISE(ABORT, 'append-only: a log head only grows'); END"
        )
        op.execute(
            "CREATE TRIGGER chain_heads_no_delete BEFORE DELETE ON chain_heads"
            " BEGIN SELECT RAISE(ABORT, 'append-only: a log head only grows'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in _APPEND_ONLY:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        op.execute("DROP TRIGGER IF EXISTS chain_heads_grow ON chain_heads")
        op.execute("DROP FUNCTION IF EXISTS xindai_append_only()")
        op.execute("DROP FUNCTION IF EXISTS xindai_head_grows()")
    op.drop_table("chain_nodes")
    op.drop_table("chain_entries")
    op.drop_table("chain_heads")
