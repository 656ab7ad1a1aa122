"""Findings: errors as data, for callers that need every problem at once (validation, compliance)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from xindai.kernel.errors import ValidationError


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem (or note) about an input: where it is, what it is, and how bad."""

    field: str
    message: str
    severity: Severity = Severity.ERROR

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


def raise_if_errors(findings: Iterable[Finding]) -> None:
    """Raise a ``ValidationError`` for the first error finding, listing all errors in the reason."""
    errors = [f for f in findings if f.severity is Severity.ERROR]
    if not errors:
        return
    first = errors[0]
    reason = first.message
    if len(errors) > 1:
        reason += "; also " + "; ".join(str(f) for f in errors[1:])
    raise ValidationError(first.field, reason)
