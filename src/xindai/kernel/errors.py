"""Error types of the domain.

The API maps each type to one HTTP status in one place; the CLI maps them to exit status 2. A
``ValidationError`` always names the offending field and the reason, and is raised before anything
is written.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base class: an operation cannot proceed."""

    code = "domain_error"


class ValidationError(DomainError, ValueError):
    """Bad input. ``field`` names the input that is wrong; ``reason`` says why."""

    code = "invalid"

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


class NotFoundError(DomainError, LookupError):
    code = "not_found"


class ConflictError(DomainError):
    """The request is well-formed but the entity's state forbids it (e.g. repaying a closed loan)."""

    code = "conflict"


class InvariantViolation(DomainError, AssertionError):
    """An internal invariant does not hold (an unbalanced journal entry, a lost fen). Severity one."""

    code = "invariant"


class DuplicateKeyError(ConflictError):
    """A unique key (an idempotency key) was inserted twice concurrently; retry to read the first."""

    code = "duplicate_key"
