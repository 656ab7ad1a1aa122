"""Business dates from text: ISO ``YYYY-MM-DD`` only, refused with the field named otherwise."""

from __future__ import annotations

from datetime import date

from xindai.kernel.errors import ValidationError


def parse_date(value: object, field: str = "date") -> date:
    """Parse an ISO date; a ``ValidationError`` naming ``field`` for anything else."""
    try:
        return date.fromisoformat(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValidationError(field, f"{value!r} is not a date in YYYY-MM-DD form") from None
