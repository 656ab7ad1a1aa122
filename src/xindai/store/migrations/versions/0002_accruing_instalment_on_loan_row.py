"""the accruing instalment on the loan row (end-of-day fast path)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = ("cur_interest", "cur_fee", "cur_accrued")


def upgrade() -> None:
    with op.batch_alter_table("loans") as batch:
        for name in _COLUMNS:
            batch.add_column(sa.Column(name, sa.BigInteger(), nullable=False, server_default="0"))
    # backfill from the instalment the cursor points at
    op.execute(
        "UPDATE loans SET"
        " cur_interest = COALESCE((SELECT i.interest FROM installments i"
        "   WHERE i.loan_id = loans.id AND i.period = loans.cursor), 0),"
        " cur_fee = COALESCE((SELECT CASE WHEN i.fee_recognised THEN 0 ELSE i.fee END"
        "   FROM installments i WHERE i.loan_id = loans.id AND i.period = loans.cursor), 0),"
        " cur_accrued = COALESCE((SELECT i.accrued_interest FROM installments i"
        "   WHERE i.loan_id = loans.id AND i.period = loans.cursor), 0)"
    )


def downgrade() -> None:
    with op.batch_alter_table("loans") as batch:
        for name in _COLUMNS:
            batch.drop_column(name)
