"""origination: applications, consents, lessons, audit trail, offers, signatures, reviews,
dynamic limits and the notification outbox

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_notifications_subject"), "notifications", ["subject"], unique=False)
    op.create_table(
        "orig_applications",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("number", sa.String(length=24), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("household", sa.String(length=64), nullable=False),
        sa.Column("product_code", sa.String(length=64), nullable=False),
        sa.Column("requested", sa.BigInteger(), nullable=False),
        sa.Column("term", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("grade", sa.String(length=4), nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("decision", sa.Text(), nullable=True),
        sa.Column("loan_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("number"),
    )
    op.create_index(
        op.f("ix_orig_applications_household"), "orig_applications", ["household"], unique=False
    )
    op.create_index(
        op.f("ix_orig_applications_status"), "orig_applications", ["status"], unique=False
    )
    op.create_index(
        op.f("ix_orig_applications_subject"), "orig_applications", ["subject"], unique=False
    )
    op.create_table(
        "orig_audit",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("application_id", sa.String(length=36), nullable=False),
        sa.Column("step", sa.String(length=32), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_orig_audit_application_id"), "orig_audit", ["application_id"], unique=False
    )
    op.create_table(
        "orig_consents",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("purpose", sa.String(length=64), nullable=False),
        sa.Column("separate", sa.Boolean(), nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=True),
        sa.Column("given_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_orig_consents_subject"), "orig_consents", ["subject"], unique=False)
    op.create_table(
        "orig_lessons",
        sa.Column("application_id", sa.String(length=36), nullable=False),
        sa.Column("lesson_id", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("quiz_correct", sa.Integer(), nullable=True),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("application_id"),
    )
    op.create_table(
        "orig_limits",
        sa.Column("application_id", sa.String(length=36), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("product_code", sa.String(length=64), nullable=False),
        sa.Column("loan_id", sa.Integer(), nullable=True),
        sa.Column("limit_fen", sa.BigInteger(), nullable=False),
        sa.Column("frozen", sa.Boolean(), nullable=False),
        sa.Column("risk_level", sa.Integer(), nullable=False),
        sa.Column("reviewed_on", sa.Date(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("application_id"),
    )
    op.create_index(
        op.f("ix_orig_limits_product_code"), "orig_limits", ["product_code"], unique=False
    )
    op.create_table(
        "orig_offers",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("application_id", sa.String(length=36), nullable=False),
        sa.Column("terms", sa.Text(), nullable=False),
        sa.Column("terms_sha256", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("application_id"),
    )
    op.create_table(
        "orig_reviews",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("application_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("analyst", sa.String(length=64), nullable=True),
        sa.Column("resolution", sa.String(length=16), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_orig_reviews_application_id"), "orig_reviews", ["application_id"], unique=False
    )
    op.create_index(op.f("ix_orig_reviews_status"), "orig_reviews", ["status"], unique=False)
    op.create_table(
        "orig_signatures",
        sa.Column("offer_id", sa.String(length=36), nullable=False),
        sa.Column("signer", sa.String(length=64), nullable=False),
        sa.Column("method", sa.String(length=32), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("terms_sha256", sa.String(length=64), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("offer_id"),
    )


def downgrade() -> None:
    op.drop_table("orig_signatures")
    op.drop_index(op.f("ix_orig_reviews_status"), table_name="orig_reviews")
    op.drop_index(op.f("ix_orig_reviews_application_id"), table_name="orig_reviews")
    op.drop_table("orig_reviews")
    op.drop_table("orig_offers")
    op.drop_index(op.f("ix_orig_limits_product_code"), table_name="orig_limits")
    op.drop_table("orig_limits")
    op.drop_table("orig_lessons")
    op.drop_index(op.f("ix_orig_consents_subject"), table_name="orig_consents")
    op.drop_table("orig_consents")
    op.drop_index(op.f("ix_orig_audit_application_id"), table_name="orig_audit")
    op.drop_table("orig_audit")
    op.drop_index(op.f("ix_orig_applications_subject"), table_name="orig_applications")
    op.drop_index(op.f("ix_orig_applications_status"), table_name="orig_applications")
    op.drop_index(op.f("ix_orig_applications_household"), table_name="orig_applications")
    op.drop_table("orig_applications")
    op.drop_index(op.f("ix_notifications_subject"), table_name="notifications")
    op.drop_table("notifications")
