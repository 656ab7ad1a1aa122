"""Shared kernel: ids, the injected clock, error types and findings (errors as data)."""

from xindai.kernel.clock import Clock, FixedClock, SystemClock
from xindai.kernel.errors import (
    ConflictError,
    DomainError,
    DuplicateKeyError,
    InvariantViolation,
    NotFoundError,
    ValidationError,
)
from xindai.kernel.findings import Finding, Severity, raise_if_errors
from xindai.kernel.ids import new_id

__all__ = [
    "Clock",
    "ConflictError",
    "DomainError",
    "DuplicateKeyError",
    "Finding",
    "FixedClock",
    "InvariantViolation",
    "NotFoundError",
    "Severity",
    "SystemClock",
    "ValidationError",
    "new_id",
    "raise_if_errors",
]
