"""The origination repository: applications, consents, lessons, the audit trail, offers, signatures,
the review queue, dynamic limits and the notification outbox — over the unit of work's connection.

Rows come back as plain dicts (JSON columns parsed) or the compliance records they hold. Instants are
stored as aware UTC; SQLite hands them back naive, so every read re-attaches UTC (``_utc``) — the
education gate compares server timestamps and must never mix naive and aware instants.
The audit trail and signatures are insert-only here: no method updates or deletes them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, and_, func, insert, select, update

from xindai.compliance.consent import ConsentRecord
from xindai.compliance.education import LessonProgress
from xindai.kernel.errors import NotFoundError
from xindai.store.tables import (
    loans,
    notifications,
    orig_applications,
    orig_audit,
    orig_consents,
    orig_lessons,
    orig_limits,
    orig_offers,
    orig_reviews,
    orig_signatures,
)

OPEN_LOAN_STATUSES = ("contracted", "active")


def _utc(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def _app_row(row: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(row)
    out["payload"] = json.loads(out["payload"])
    out["decision"] = json.loads(out["decision"]) if out["decision"] else None
    out["created_at"] = _utc(out["created_at"])
    out["updated_at"] = _utc(out["updated_at"])
    return out


class OriginationRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._for_update = conn.dialect.name == "postgresql"

    def defer_flush(self) -> None:
        """Commit this transaction without waiting for the WAL flush (PostgreSQL
        ``synchronous_commit = off`` for this transaction only; SQLite: nothing to do).

        Used for the intermediate pipeline steps: the decision that concludes them commits
        synchronously, and flushing its commit record flushes every earlier WAL record, so once a
        decision is durable its steps are too; a crash before it loses only steps of an
        undecided application, which is decided again from the start."""
        if self.conn.dialect.name == "postgresql":
            self.conn.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")

    # -- applications ---------------------------------------------------------------------------

    def add_application(self, row: Mapping[str, Any]) -> None:
        values = dict(row)
        values["payload"] = _dumps(values["payload"])
        values["decision"] = _dumps(values["decision"]) if values.get("decision") else None
        self.conn.execute(insert(orig_applications), values)

    def get_application(self, ref: str, *, lock: bool = False) -> dict[str, Any]:
        """By UUID or application number; ``lock`` takes a row lock on PostgreSQL."""
        col = orig_applications.c.id if len(ref) == 36 else orig_applications.c.number
        stmt = select(orig_applications).where(col == ref)
        if lock and self._for_update:
            stmt = stmt.with_for_update()
        row = self.conn.execute(stmt).mappings().first()
        if row is None:
            raise NotFoundError(f"application {ref} not found")
        return _app_row(dict(row))

    def update_application(self, app_id: str, **values: Any) -> None:
        if "decision" in values and values["decision"] is not None:
            values["decision"] = _dumps(values["decision"])
        if "payload" in values:
            values["payload"] = _dumps(values["payload"])
        self.conn.execute(
            update(orig_applications).where(orig_applications.c.id == app_id).values(**values)
        )

    def list_applications(
        self, *, status: str | None = None, subject: str | None = None, limit: int = 100
    ) -> list[dict[str, Any]]:
        stmt = select(orig_applications).order_by(orig_applications.c.created_at.desc())
        if status:
            stmt = stmt.where(orig_applications.c.status == status)
        if subject:
            stmt = stmt.where(orig_applications.c.subject == subject)
        return [_app_row(dict(r)) for r in self.conn.execute(stmt.limit(limit)).mappings()]

    def count_applications(self) -> dict[str, int]:
        stmt = select(orig_applications.c.status, func.count()).group_by(orig_applications.c.status)
        return {str(s): int(n) for s, n in self.conn.execute(stmt)}

    def household_exposure(
        self, household: str, product_codes: Sequence[str], *, exclude: str | None = None
    ) -> int:
        """Open credit of a household in fen — outstanding principal plus undrawn line of every
        contracted or active loan of ``product_codes`` whose borrower is a member of the household
        (a subject who applied under it), however the loan was opened. ``exclude`` leaves out the
        loan of one application (the one being decided)."""
        members = (
            select(orig_applications.c.subject)
            .where(orig_applications.c.household == household)
            .distinct()
        )
        stmt = select(
            func.coalesce(
                func.sum(loans.c.principal_outstanding + loans.c.line_amount - loans.c.disbursed),
                0,
            )
        ).where(
            and_(
                loans.c.borrower_ref.in_(members),
                loans.c.status.in_(OPEN_LOAN_STATUSES),
                loans.c.product_code.in_(list(product_codes)),
            )
        )
        if exclude is not None:
            own = select(orig_applications.c.loan_id).where(
                and_(orig_applications.c.id == exclude, orig_applications.c.loan_id.is_not(None))
            )
            stmt = stmt.where(loans.c.id.not_in(own))
        return int(self.conn.execute(stmt).scalar_one())

    # -- consents -------------------------------------------------------------------------------

    def add_consent(self, record: ConsentRecord) -> None:
        self.conn.execute(
            insert(orig_consents),
            {
                "id": record.id,
                "subject": record.subject,
                "source": record.source,
                "purpose": record.purpose,
                "separate": record.separate,
                "channel": record.channel,
                "given_at": record.given_at,
                "withdrawn_at": record.withdrawn_at,
            },
        )

    def consents_of(self, subject: str) -> list[ConsentRecord]:
        rows = self.conn.execute(
            select(orig_consents)
            .where(orig_consents.c.subject == subject)
            .order_by(orig_consents.c.given_at)
        ).mappings()
        return [
            ConsentRecord(
                subject=r["subject"],
                source=r["source"],
                purpose=r["purpose"],
                separate=bool(r["separate"]),
                given_at=_utc(r["given_at"]) or r["given_at"],
                channel=r["channel"],
                withdrawn_at=_utc(r["withdrawn_at"]),
                id=r["id"],
            )
            for r in rows
        ]

    def withdraw_consent(self, consent_id: str, subject: str, at: datetime) -> bool:
        result = self.conn.execute(
            update(orig_consents)
            .where(
                and_(
                    orig_consents.c.id == consent_id,
                    orig_consents.c.subject == subject,
                    orig_consents.c.withdrawn_at.is_(None),
                )
            )
            .values(withdrawn_at=at)
        )
        return bool(result.rowcount)

    # -- lessons --------------------------------------------------------------------------------

    def lesson(self, app_id: str) -> LessonProgress | None:
        row = (
            self.conn.execute(select(orig_lessons).where(orig_lessons.c.application_id == app_id))
            .mappings()
            .first()
        )
        if row is None:
            return None
        started = _utc(row["started_at"])
        assert started is not None
        return LessonProgress(
            lesson_id=row["lesson_id"],
            started_at=started,
            finished_at=_utc(row["finished_at"]),
            quiz_correct=row["quiz_correct"],
        )

    def start_lesson(self, app_id: str, lesson_id: str, at: datetime) -> None:
        """A (re)start resets the lesson: watch time is measured from the latest start."""
        exists = self.lesson(app_id) is not None
        values = {
            "lesson_id": lesson_id,
            "started_at": at,
            "finished_at": None,
            "quiz_correct": None,
            "passed": False,
        }
        if exists:
            self.conn.execute(
                update(orig_lessons).where(orig_lessons.c.application_id == app_id).values(values)
            )
        else:
            self.conn.execute(insert(orig_lessons), {"application_id": app_id, **values})

    def finish_lesson(self, app_id: str, at: datetime, quiz_correct: int, passed: bool) -> None:
        self.conn.execute(
            update(orig_lessons)
            .where(orig_lessons.c.application_id == app_id)
            .values(finished_at=at, quiz_correct=quiz_correct, passed=passed)
        )

    # -- audit trail ----------------------------------------------------------------------------

    def audit(self, app_id: str, step: str, outcome: str, detail: Any, at: datetime) -> None:
        self.conn.execute(
            insert(orig_audit),
            {
                "application_id": app_id,
                "step": step,
                "outcome": outcome,
                "detail": _dumps(detail),
                "at": at,
            },
        )

    def audit_trail(self, app_id: str) -> list[dict[str, Any]]:
        rows = self.conn.execute(
            select(orig_audit)
            .where(orig_audit.c.application_id == app_id)
            .order_by(orig_audit.c.id)
        ).mappings()
        return [
            {
                "step": r["step"],
                "outcome": r["outcome"],
                "detail": json.loads(r["detail"]),
                "at": (_utc(r["at"]) or r["at"]).isoformat(),
            }
            for r in rows
        ]

    # -- offers and signatures ------------------------------------------------------------------

    def add_offer(self, row: Mapping[str, Any]) -> None:
        values = dict(row)
        values["terms"] = _dumps(values["terms"])
        self.conn.execute(insert(orig_offers), values)

    def offer_for(self, app_id: str) -> dict[str, Any] | None:
        row = (
            self.conn.execute(select(orig_offers).where(orig_offers.c.application_id == app_id))
            .mappings()
            .first()
        )
        if row is None:
            return None
        out = dict(row)
        out["terms_text"] = out["terms"]
        out["terms"] = json.loads(out["terms"])
        out["expires_at"] = _utc(out["expires_at"])
        out["created_at"] = _utc(out["created_at"])
        return out

    def set_offer_status(self, offer_id: str, status: str) -> None:
        self.conn.execute(
            update(orig_offers).where(orig_offers.c.id == offer_id).values(status=status)
        )

    def add_signature(self, row: Mapping[str, Any]) -> None:
        values = dict(row)
        values["evidence"] = _dumps(values["evidence"])
        self.conn.execute(insert(orig_signatures), values)

    def signature(self, offer_id: str) -> dict[str, Any] | None:
        row = (
            self.conn.execute(select(orig_signatures).where(orig_signatures.c.offer_id == offer_id))
            .mappings()
            .first()
        )
        if row is None:
            return None
        out = dict(row)
        out["evidence"] = json.loads(out["evidence"])
        out["signed_at"] = _utc(out["signed_at"])
        return out

    # -- review queue ---------------------------------------------------------------------------

    def add_review(self, row: Mapping[str, Any]) -> None:
        self.conn.execute(insert(orig_reviews), dict(row))

    def review(self, review_id: str, *, lock: bool = False) -> dict[str, Any]:
        stmt = select(orig_reviews).where(orig_reviews.c.id == review_id)
        if lock and self._for_update:
            stmt = stmt.with_for_update()
        row = self.conn.execute(stmt).mappings().first()
        if row is None:
            raise NotFoundError(f"review {review_id} not found")
        return dict(row)

    def reviews(
        self, *, status: str | None = None, app_id: str | None = None, limit: int = 100
    ) -> list[dict[str, Any]]:
        stmt = select(orig_reviews).order_by(orig_reviews.c.opened_at)
        if status:
            stmt = stmt.where(orig_reviews.c.status == status)
        if app_id:
            stmt = stmt.where(orig_reviews.c.application_id == app_id)
        return [dict(r) for r in self.conn.execute(stmt.limit(limit)).mappings()]

    def close_review(
        self, review_id: str, *, analyst: str, resolution: str, note: str, at: datetime
    ) -> None:
        self.conn.execute(
            update(orig_reviews)
            .where(orig_reviews.c.id == review_id)
            .values(
                status="closed", analyst=analyst, resolution=resolution, note=note, closed_at=at
            )
        )

    # -- dynamic limits -------------------------------------------------------------------------

    def put_limit(self, row: Mapping[str, Any]) -> None:
        exists = self.conn.execute(
            select(orig_limits.c.application_id).where(
                orig_limits.c.application_id == row["application_id"]
            )
        ).first()
        if exists:
            values = {k: v for k, v in row.items() if k != "application_id"}
            self.conn.execute(
                update(orig_limits)
                .where(orig_limits.c.application_id == row["application_id"])
                .values(**values)
            )
        else:
            self.conn.execute(insert(orig_limits), dict(row))

    def limits(
        self,
        *,
        product_codes: Sequence[str] | None = None,
        not_reviewed_on: date | None = None,
        app_id: str | None = None,
    ) -> list[dict[str, Any]]:
        """Limits with the drawn balance of their loan (principal outstanding, 0 if none)."""
        stmt = (
            select(
                orig_limits,
                func.coalesce(loans.c.principal_outstanding, 0).label("drawn"),
                loans.c.status.label("loan_status"),
            )
            .select_from(orig_limits.outerjoin(loans, loans.c.id == orig_limits.c.loan_id))
            .order_by(orig_limits.c.application_id)
        )
        if product_codes is not None:
            stmt = stmt.where(orig_limits.c.product_code.in_(list(product_codes)))
        if app_id is not None:
            stmt = stmt.where(orig_limits.c.application_id == app_id)
        if not_reviewed_on is not None:
            stmt = stmt.where(
                (orig_limits.c.reviewed_on.is_(None))
                | (orig_limits.c.reviewed_on != not_reviewed_on)
            )
        return [dict(r) for r in self.conn.execute(stmt).mappings()]

    def limit_of(self, app_id: str) -> dict[str, Any] | None:
        rows = self.limits(app_id=app_id)
        return rows[0] if rows else None

    # -- notification outbox --------------------------------------------------------------------

    def notify(self, subject: str, kind: str, payload: Any, at: datetime) -> None:
        self.conn.execute(
            insert(notifications),
            {"subject": subject, "kind": kind, "payload": _dumps(payload), "created_at": at},
        )

    def notifications(self, subject: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        stmt = select(notifications).order_by(notifications.c.id)
        if subject:
            stmt = stmt.where(notifications.c.subject == subject)
        return [
            {
                "id": r["id"],
                "subject": r["subject"],
                "kind": r["kind"],
                "payload": json.loads(r["payload"]),
                "created_at": (_utc(r["created_at"]) or r["created_at"]).isoformat(),
                "sent": r["sent_at"] is not None,
            }
            for r in self.conn.execute(stmt.limit(limit)).mappings()
        ]
