"""Delinquency buckets by days past due (industry convention, DOMAIN_RULES §3).

M0 current; M1 1–30 DPD; M2 31–60; M3 61–90; M3+ over 90.
"""

from __future__ import annotations

from enum import StrEnum


class Bucket(StrEnum):
    M0 = "M0"
    M1 = "M1"
    M2 = "M2"
    M3 = "M3"
    M3_PLUS = "M3+"


def bucket_for(dpd: int) -> Bucket:
    """The bucket for a number of days past due (negative is refused)."""
    if dpd < 0:
        raise ValueError("dpd must not be negative")
    if dpd == 0:
        return Bucket.M0
    if dpd <= 30:
        return Bucket.M1
    if dpd <= 60:
        return Bucket.M2
    if dpd <= 90:
        return Bucket.M3
    return Bucket.M3_PLUS
