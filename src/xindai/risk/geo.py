"""Time-of-day and distance helpers for indicators.

Local time is Asia/Shanghai. China has observed no daylight saving since 1991, so the local wall
clock is UTC+8 for every instant the engine sees; using the fixed offset keeps the per-event cost
to integer arithmetic (``tests/unit/risk`` cross-checks it against ``zoneinfo``).
"""

from __future__ import annotations

import math

SHANGHAI_OFFSET_S = 8 * 3600
EARTH_RADIUS_KM = 6371.0088
NIGHT_HOURS = frozenset(range(0, 6))  # 00:00-05:59 local


def local_hour(ts: float) -> int:
    """Hour of day (0-23) in Asia/Shanghai for epoch seconds ``ts``."""
    return int((ts + SHANGHAI_OFFSET_S) // 3600) % 24


def local_weekday(ts: float) -> int:
    """Day of week in Asia/Shanghai, Monday = 0 (1970-01-01 was a Thursday)."""
    return (int((ts + SHANGHAI_OFFSET_S) // 86400) + 3) % 7


def is_night(ts: float) -> bool:
    """True between 00:00 and 05:59 local time."""
    return local_hour(ts) < 6


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in kilometres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp = p2 - p1
    dl = math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))
