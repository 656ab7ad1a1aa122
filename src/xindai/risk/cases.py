"""Review cases and black/white lists.

A decision whose action is ``review`` or ``block`` opens a case. An analyst works the case with one
of three actions: confirm fraud, clear, or add an entity to a list. Confirming fraud feeds evidence
back into the subject's level (done by the engine). Cases are immutable values; every action makes a
new version with the action appended to ``history`` (the store keeps the latest version).

Lists are keyed by entity kind (subject, device, ip): a blacklisted entity blocks any event it
appears on; a whitelisted subject is allowed (its rules still run and are logged as shadow hits).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from xindai.kernel import ConflictError, ValidationError


class CaseStatus(StrEnum):
    OPEN = "open"
    CONFIRMED_FRAUD = "confirmed_fraud"
    CLEARED = "cleared"


class AnalystAction(StrEnum):
    CONFIRM_FRAUD = "confirm_fraud"
    CLEAR = "clear"
    ADD_TO_LIST = "add_to_list"


class ListKind(StrEnum):
    SUBJECT = "subject"
    DEVICE = "device"
    IP = "ip"


@dataclass(frozen=True, slots=True)
class CaseEntry:
    action: AnalystAction
    analyst: str
    at: str
    note: str = ""


@dataclass(frozen=True, slots=True)
class Case:
    case_id: str
    subject: str
    decision_id: str
    event_id: str
    opened_at: str
    reasons_en: tuple[str, ...]
    reasons_zh: tuple[str, ...]
    status: CaseStatus = CaseStatus.OPEN
    history: tuple[CaseEntry, ...] = ()

    def act(self, action: AnalystAction, analyst: str, at: str, note: str = "") -> Case:
        """A new version with the action applied; a closed case only accepts list additions."""
        if not analyst.strip():
            raise ValidationError("analyst", "is required")
        if self.status is not CaseStatus.OPEN and action is not AnalystAction.ADD_TO_LIST:
            raise ConflictError(f"case {self.case_id} is already {self.status.value}")
        status = {
            AnalystAction.CONFIRM_FRAUD: CaseStatus.CONFIRMED_FRAUD,
            AnalystAction.CLEAR: CaseStatus.CLEARED,
        }.get(action, self.status)
        entry = CaseEntry(action, analyst, at, note)
        return replace(self, status=status, history=(*self.history, entry))


def case_to_json(case: Case) -> dict[str, Any]:
    return {
        "case_id": case.case_id,
        "subject": case.subject,
        "decision_id": case.decision_id,
        "event_id": case.event_id,
        "opened_at": case.opened_at,
        "reasons_en": list(case.reasons_en),
        "reasons_zh": list(case.reasons_zh),
        "status": case.status.value,
        "history": [
            {"action": e.action.value, "analyst": e.analyst, "at": e.at, "note": e.note}
            for e in case.history
        ],
    }


def case_from_json(raw: dict[str, Any]) -> Case:
    return Case(
        case_id=raw["case_id"],
        subject=raw["subject"],
        decision_id=raw["decision_id"],
        event_id=raw["event_id"],
        opened_at=raw["opened_at"],
        reasons_en=tuple(raw["reasons_en"]),
        reasons_zh=tuple(raw["reasons_zh"]),
        status=CaseStatus(raw["status"]),
        history=tuple(
            CaseEntry(AnalystAction(e["action"]), e["analyst"], e["at"], e.get("note", ""))
            for e in raw["history"]
        ),
    )


class Watchlists:
    """Black and white lists by entity kind. Membership checks are O(1)."""

    def __init__(self) -> None:
        self.black: dict[ListKind, set[str]] = {k: set() for k in ListKind}
        self.white: dict[ListKind, set[str]] = {k: set() for k in ListKind}
        # The same set objects, for ``screen`` (``load`` refills them in place).
        self._black = (
            self.black[ListKind.SUBJECT],
            self.black[ListKind.DEVICE],
            self.black[ListKind.IP],
        )
        self._white = self.white[ListKind.SUBJECT]

    @staticmethod
    def check(kind: ListKind | str, value: str) -> ListKind:
        """Validate an entry: ``ValidationError`` naming ``kind`` or ``value``."""
        try:
            list_kind = ListKind(kind)
        except ValueError:
            raise ValidationError("kind", f"must be one of {[k.value for k in ListKind]}") from None
        if not value or not value.strip():
            raise ValidationError("value", "is required")
        return list_kind

    def add(self, kind: ListKind | str, value: str, *, black: bool = True) -> None:
        (self.black if black else self.white)[self.check(kind, value)].add(value)

    def remove(self, kind: ListKind | str, value: str, *, black: bool = True) -> None:
        (self.black if black else self.white)[ListKind(kind)].discard(value)

    def blacklisted(self, subject: str, device: str | None, ip: str | None) -> str | None:
        """The first matching blacklist entry as ``kind:value``, or None."""
        if subject in self.black[ListKind.SUBJECT]:
            return f"subject:{subject}"
        if device is not None and device in self.black[ListKind.DEVICE]:
            return f"device:{device}"
        if ip is not None and ip in self.black[ListKind.IP]:
            return f"ip:{ip}"
        return None

    def whitelisted(self, subject: str) -> bool:
        return subject in self.white[ListKind.SUBJECT]

    def screen(self, subject: str, device: str | None, ip: str | None) -> tuple[bool, str | None]:
        """``(whitelisted(subject), blacklisted(subject, device, ip))`` in one call for the
        decision path: with empty lists (the common case) it costs two truth tests."""
        black, white = self._black, self._white
        whitelisted = bool(white) and subject in white
        if not black[0] and not black[1] and not black[2]:
            return whitelisted, None
        return whitelisted, self.blacklisted(subject, device, ip)

    def dump(self) -> dict[str, Any]:
        return {
            "black": {k.value: sorted(v) for k, v in self.black.items()},
            "white": {k.value: sorted(v) for k, v in self.white.items()},
        }

    def load(self, data: dict[str, Any]) -> None:
        for k in ListKind:
            # In place: ``screen`` holds references to these sets.
            self.black[k].clear()
            self.black[k].update(data.get("black", {}).get(k.value, []))
            self.white[k].clear()
            self.white[k].update(data.get("white", {}).get(k.value, []))
