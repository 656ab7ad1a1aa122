"""risk engine store: decisions, cases, dead letters, black/white list entries

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "risk_decisions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("decision_id", sa.String(length=160), nullable=False),
        sa.Column("subject", sa.String(length=128), nullable=False),
        sa.Column("event_type", sa.String(length=32), nullable=False),
        sa.Column("occurred_at", sa.String(length=40), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("level_after", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("decision_id"),
    )
    op.create_index("ix_risk_decisions_subject", "risk_decisions", ["subject"])
    op.create_index("ix_risk_decisions_action", "risk_decisions", ["action"])
    op.create_table(
        "risk_cases",
        sa.Column("case_id", sa.String(length=160), nullable=False),
        sa.Column("subject", sa.String(length=128), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("opened_at", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("case_id"),
    )
    op.create_index("ix_risk_cases_subject", "risk_cases", ["subject"])
    op.create_index("ix_risk_cases_status", "risk_cases", ["status"])
    op.create_table(
        "risk_dead_letters",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.Column("field", sa.String(length=128), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "risk_list_entries",
        sa.Column("list", sa.String(length=8), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("list", "kind", "value"),
    )


def downgrade() -> None:
    op.drop_table("risk_list_entries")
    op.drop_table("risk_dead_letters")
    op.drop_index("ix_risk_cases_status", table_name="risk_cases")
    op.drop_index("ix_risk_cases_subject", table_name="risk_cases")
    op.drop_table("risk_cases")
    op.drop_index("ix_risk_decisions_action", table_name="risk_decisions")
    op.drop_index("ix_risk_decisions_subject", table_name="risk_decisions")
    op.drop_table("risk_decisions")
