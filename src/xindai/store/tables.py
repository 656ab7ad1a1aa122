"""Table definitions (SQLAlchemy Core). Alembic migrations under ``migrations/`` create them.

Money columns are BIGINT fen; rates are strings holding the exact Decimal; business dates are DATE.
Loans have an integer surrogate key (compact journal lines, range-chunked end of day) and a UUID
for the outside world. Columns marked *derived* are caches of the aggregate, rewritten on every save
and used by queries and by the end-of-day fast path to select loans.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

loans = Table(
    "loans",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("uuid", String(36), nullable=False, unique=True),
    Column("number", String(32), nullable=False, unique=True),
    Column("product_code", String(64), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("annual_rate", String(32), nullable=False),
    Column("method", String(32), nullable=False),
    Column("term", Integer, nullable=False),
    Column("start_date", Date, nullable=False),
    Column("first_due_date", Date),
    Column("line_amount", BigInteger, nullable=False),
    Column("status", String(16), nullable=False, index=True),
    Column("disbursed", BigInteger, nullable=False, default=0),
    Column("cursor", Integer, nullable=False, default=1),
    Column("anchor_date", Date),
    Column("anchor_accrued", BigInteger, nullable=False, default=0),
    Column("penalty_charged", BigInteger, nullable=False, default=0),
    Column("penalty_paid", BigInteger, nullable=False, default=0),
    Column("penalty_carry", BigInteger, nullable=False, default=0),
    Column("suspense", BigInteger, nullable=False, default=0),
    Column("written_off_principal", BigInteger, nullable=False, default=0),
    Column("written_off_interest", BigInteger, nullable=False, default=0),
    Column("written_off_fee", BigInteger, nullable=False, default=0),
    Column("written_off_penalty", BigInteger, nullable=False, default=0),
    Column("recovered", BigInteger, nullable=False, default=0),
    Column("dpd", Integer, nullable=False, default=0),
    Column("processed_through", Date),
    Column("closed_on", Date),
    Column("version", Integer, nullable=False, default=0),
    # derived caches
    Column("bucket", String(4), nullable=False, default="M0"),
    Column("next_due_date", Date),
    # the accruing instalment, denormalised for the end-of-day fast path (authoritative for its
    # accrued interest; the instalment row is brought up to date whenever the loan is saved)
    Column("cur_interest", BigInteger, nullable=False, default=0),
    Column("cur_fee", BigInteger, nullable=False, default=0),
    Column("cur_accrued", BigInteger, nullable=False, default=0),
    Column("oldest_unpaid_due", Date),
    Column("principal_outstanding", BigInteger, nullable=False, default=0),
    Column("interest_receivable", BigInteger, nullable=False, default=0),
    Column("fee_receivable", BigInteger, nullable=False, default=0),
    Column("penalty_receivable", BigInteger, nullable=False, default=0),
    Column("borrower_ref", String(64)),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

installments = Table(
    "installments",
    metadata,
    Column("loan_id", Integer, ForeignKey("loans.id"), primary_key=True),
    Column("period", Integer, primary_key=True),
    Column("start_date", Date, nullable=False),
    Column("due_date", Date, nullable=False),
    Column("principal", BigInteger, nullable=False),
    Column("interest", BigInteger, nullable=False),
    Column("fee", BigInteger, nullable=False),
    Column("accrued_interest", BigInteger, nullable=False, default=0),
    Column("fee_recognised", Boolean, nullable=False, default=False),
    Column("late_fee", BigInteger, nullable=False, default=0),
    Column("prepayment_fee", BigInteger, nullable=False, default=0),
    Column("paid_principal", BigInteger, nullable=False, default=0),
    Column("paid_interest", BigInteger, nullable=False, default=0),
    Column("paid_fee", BigInteger, nullable=False, default=0),
)

journal_entries = Table(
    "journal_entries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("business_date", Date, nullable=False, index=True),
    Column("kind", String(32), nullable=False),
    Column("loan_id", Integer, ForeignKey("loans.id")),
    Column("memo", Text, nullable=False, default=""),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

journal_lines = Table(
    "journal_lines",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("entry_id", Integer, ForeignKey("journal_entries.id"), nullable=False, index=True),
    Column("account", String(40), nullable=False),
    Column("loan_id", Integer),
    Column("amount", BigInteger, nullable=False),
    Index("ix_journal_lines_loan_account", "loan_id", "account"),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("key", String(128), primary_key=True),
    Column("command", String(32), nullable=False),
    Column("loan_id", Integer),
    Column("result", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

quotes = Table(
    "quotes",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("product_code", String(64)),
    Column("request", Text, nullable=False),
    Column("response", Text, nullable=False),
    Column("accepted_loan_id", Integer),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

eod_runs = Table(
    "eod_runs",
    metadata,
    Column("business_date", Date, primary_key=True),
    Column("status", String(16), nullable=False),
    Column("chunk_size", Integer, nullable=False),
    Column("chunks", Integer, nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
)

eod_chunks = Table(
    "eod_chunks",
    metadata,
    Column("business_date", Date, primary_key=True),
    Column("chunk_no", Integer, primary_key=True),
    Column("first_id", Integer, nullable=False),
    Column("last_id", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("loans", Integer, nullable=False, default=0),
    Column("worker", String(64)),
    Column("done_at", DateTime(timezone=True)),
)

Index("ix_eod_chunks_pending", eod_chunks.c.business_date, eod_chunks.c.status)


# --- consortium chain (append-only: migration 0003 adds triggers refusing UPDATE and DELETE) ------

chain_heads = Table(
    "chain_heads",
    metadata,
    Column("log_id", String(64), primary_key=True),
    Column("size", BigInteger, nullable=False),
)

chain_entries = Table(
    "chain_entries",
    metadata,
    Column("log_id", String(64), primary_key=True),
    Column("idx", BigInteger, primary_key=True),
    Column("data", LargeBinary, nullable=False),
)

chain_nodes = Table(
    "chain_nodes",
    metadata,
    Column("log_id", String(64), primary_key=True),
    Column("level", Integer, primary_key=True),
    Column("idx", BigInteger, primary_key=True),
    Column("hash", LargeBinary(32), nullable=False),
)


# --- origination (issue 6): applications, consents, education, audit, offers, reviews, limits ----

orig_applications = Table(
    "orig_applications",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("number", String(24), nullable=False, unique=True),
    Column("subject", String(64), nullable=False, index=True),
    Column("household", String(64), nullable=False, index=True),
    Column("product_code", String(64), nullable=False),
    Column("requested", BigInteger, nullable=False),
    Column("term", Integer, nullable=False),
    Column("method", String(32), nullable=False),
    Column("status", String(16), nullable=False, index=True),
    Column("outcome", String(16)),
    Column("grade", String(4)),
    Column("payload", Text, nullable=False),
    Column("decision", Text),
    Column("loan_id", Integer),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

orig_consents = Table(
    "orig_consents",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("subject", String(64), nullable=False, index=True),
    Column("source", String(64), nullable=False),
    Column("purpose", String(64), nullable=False),
    Column("separate", Boolean, nullable=False),
    Column("channel", String(64)),
    Column("given_at", DateTime(timezone=True), nullable=False),
    Column("withdrawn_at", DateTime(timezone=True)),
)

orig_lessons = Table(
    "orig_lessons",
    metadata,
    Column("application_id", String(36), primary_key=True),
    Column("lesson_id", String(64), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Column("quiz_correct", Integer),
    Column("passed", Boolean, nullable=False),
)

orig_audit = Table(
    "orig_audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("application_id", String(36), nullable=False, index=True),
    Column("step", String(32), nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("detail", Text, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)

orig_offers = Table(
    "orig_offers",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("application_id", String(36), nullable=False, unique=True),
    Column("terms", Text, nullable=False),
    Column("terms_sha256", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

orig_signatures = Table(
    "orig_signatures",
    metadata,
    Column("offer_id", String(36), primary_key=True),
    Column("signer", String(64), nullable=False),
    Column("method", String(32), nullable=False),
    Column("evidence", Text, nullable=False),
    Column("terms_sha256", String(64), nullable=False),
    Column("signed_at", DateTime(timezone=True), nullable=False),
)

orig_reviews = Table(
    "orig_reviews",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("application_id", String(36), nullable=False, index=True),
    Column("kind", String(16), nullable=False),
    Column("status", String(16), nullable=False, index=True),
    Column("reason", Text, nullable=False),
    Column("analyst", String(64)),
    Column("resolution", String(16)),
    Column("note", Text),
    Column("opened_at", DateTime(timezone=True), nullable=False),
    Column("closed_at", DateTime(timezone=True)),
)

orig_limits = Table(
    "orig_limits",
    metadata,
    Column("application_id", String(36), primary_key=True),
    Column("subject", String(64), nullable=False),
    Column("product_code", String(64), nullable=False, index=True),
    Column("loan_id", Integer),
    Column("limit_fen", BigInteger, nullable=False),
    Column("frozen", Boolean, nullable=False),
    Column("risk_level", Integer, nullable=False),
    Column("reviewed_on", Date),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# the household cap sums a household's open loans by borrower reference (migration 0007)
Index("ix_loans_borrower_ref", loans.c.borrower_ref)

notifications = Table(
    "notifications",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("subject", String(64), nullable=False, index=True),
    Column("kind", String(32), nullable=False),
    Column("payload", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True)),
)

# --- consortium chain: checkpoints, cosignatures, witness state, equivocation evidence (0005) ---
# Checkpoints and cosignatures are append-only like the log (a cosignature is added, never
# changed); the witness state is the one mutable row: the latest checkpoint a hosted witness
# cosigned, which only moves forward.

chain_checkpoints = Table(
    "chain_checkpoints",
    metadata,
    Column("log_id", String(64), primary_key=True),
    Column("size", BigInteger, primary_key=True),
    Column("root", LargeBinary(32), nullable=False),
    Column("note", Text, nullable=False),
    Column("signed_at", BigInteger, nullable=False),
)

chain_cosignatures = Table(
    "chain_cosignatures",
    metadata,
    Column("log_id", String(64), primary_key=True),
    Column("size", BigInteger, primary_key=True),
    Column("witness", String(255), primary_key=True),
    Column("line", Text, nullable=False),
    Column("cosigned_at", BigInteger, nullable=False),
)

chain_witness_state = Table(
    "chain_witness_state",
    metadata,
    Column("log_id", String(64), primary_key=True),
    Column("witness", String(255), primary_key=True),
    Column("size", BigInteger, nullable=False),
    Column("note", Text, nullable=False),
)

chain_equivocations = Table(
    "chain_equivocations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("log_id", String(64), nullable=False),
    Column("witness", String(255), nullable=False),
    Column("kind", String(64), nullable=False),
    Column("first_note", Text, nullable=False),
    Column("second_note", Text, nullable=False),
    Column("detail", Text, nullable=False),
    Column("detected_at", BigInteger, nullable=False),
)

# --- real-time risk engine (issue 4): decisions, cases, dead letters, black/white lists ----------
# Decisions and dead letters are append-only records (the full record as JSON in ``body``, with the
# columns the queries filter on); a case row holds the latest version (its history is in ``body``).

risk_decisions = Table(
    "risk_decisions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("decision_id", String(160), nullable=False, unique=True),
    Column("subject", String(128), nullable=False, index=True),
    Column("event_type", String(32), nullable=False),
    Column("occurred_at", String(40), nullable=False),
    Column("action", String(16), nullable=False, index=True),
    Column("level_after", Integer, nullable=False),
    Column("body", Text, nullable=False),
)

risk_cases = Table(
    "risk_cases",
    metadata,
    Column("case_id", String(160), primary_key=True),
    Column("subject", String(128), nullable=False, index=True),
    Column("status", String(24), nullable=False, index=True),
    Column("opened_at", String(40), nullable=False),
    Column("version", Integer, nullable=False),
    Column("body", Text, nullable=False),
)

risk_dead_letters = Table(
    "risk_dead_letters",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("raw", Text, nullable=False),
    Column("field", String(128), nullable=False),
    Column("reason", Text, nullable=False),
    Column("source", String(255), nullable=False),
)

risk_list_entries = Table(
    "risk_list_entries",
    metadata,
    Column("list", String(8), primary_key=True),
    Column("kind", String(16), primary_key=True),
    Column("value", String(128), primary_key=True),
)

# fund-flow outbox (migration 0008): one row per movement of a loan's money, written in the money
# command's own transaction; the publisher appends it to the consortium log and records the index.
fund_movements = Table(
    "fund_movements",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("movement_id", String(64), nullable=False, unique=True),
    Column("loan_id", Integer, ForeignKey("loans.id"), nullable=False),
    Column("loan_uuid", String(36), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("source", String(160), nullable=False),
    Column("target", String(160), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("value_date", Date, nullable=False),
    Column("purpose", String(200), nullable=False),
    Column("journal_entry_id", Integer, ForeignKey("journal_entries.id"), nullable=False),
    Column("idempotency_key", String(128), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("log_index", BigInteger),
    Column("published_at", DateTime(timezone=True)),
    Index("ix_fund_movements_loan", "loan_id", "id"),
    Index("ix_fund_movements_pending", "log_index", "id"),
)

# one lease row per publisher name: publishers of fund movements take turns (per-loan hash chains
# must be appended by one writer at a time)
fund_flow_publisher = Table(
    "fund_flow_publisher",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("holder", String(64)),
    Column("lease_until_ms", BigInteger, nullable=False),
)
