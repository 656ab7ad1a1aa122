"""The clock the domain receives instead of calling ``datetime.now()``.

Invariant: instants are aware UTC ``datetime``; business dates are ``date`` in Asia/Shanghai.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

BUSINESS_TZ = ZoneInfo("Asia/Shanghai")


class Clock(Protocol):
    """Source of the current instant and business date."""

    def now(self) -> datetime: ...

    def today(self) -> date: ...


class SystemClock:
    """The real clock: UTC now, business date in Asia/Shanghai."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def today(self) -> date:
        return self.now().astimezone(BUSINESS_TZ).date()


@dataclass
class FixedClock:
    """A settable clock for tests, demos and replays."""

    instant: datetime = field(default_factory=lambda: datetime(2026, 1, 1, tzinfo=UTC))

    def __post_init__(self) -> None:
        if self.instant.tzinfo is None:
            raise ValueError("FixedClock.instant must be timezone-aware")

    def now(self) -> datetime:
        return self.instant

    def today(self) -> date:
        return self.instant.astimezone(BUSINESS_TZ).date()

    def advance(self, delta: timedelta) -> None:
        self.instant = self.instant + delta
