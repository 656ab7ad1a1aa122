"""PIPL consent for credit decisions (DOMAIN_RULES §5): per purpose, separate for sensitive data,
third-party data only through a licensed credit-reporting channel.

``check_consents(sources, consents, at=…)`` returns one ``ConsentGap`` per data source that may not
be used, each naming the source (zh-CN and English) and what is missing:

* ``missing`` — no active consent by this subject for this source and purpose (PIPL Art. 14: consent
  is per purpose; a consent given for another purpose does not count);
* ``separate`` — the source is *sensitive* (location, financial accounts, …) and only a bundled
  consent exists: sensitive data needs a separate consent (PIPL Art. 29);
* ``unlicensed`` — the source is third-party ("alternative") data and the consent does not name a
  channel, or names one that is not a licensed credit-reporting agency (断直连: platforms may not
  pass user data directly to lenders since 2021–2022);
* ``prohibited`` — the source is of a category credit reporting may never collect (disease or
  medical history, religion, genes, …; 征信业管理条例 Art. 14): no consent can make it usable.

Invariants: pure (no I/O, no clock — the caller passes ``at``); a withdrawn consent is inactive from
the instant of withdrawal; the result is empty exactly when every source may be used.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from xindai.kernel.errors import ValidationError

PURPOSE_CREDIT = "credit-assessment"
"""The purpose every credit-decision data source is consented for unless its product says otherwise."""

CATEGORIES = ("ordinary", "sensitive", "prohibited")


class DataSourceLike(Protocol):
    """What the consent check reads from a product's data source (``products.catalogue.DataSource``)."""

    @property
    def name(self) -> str: ...
    @property
    def category(self) -> str: ...
    @property
    def third_party(self) -> bool: ...
    @property
    def purpose(self) -> str: ...
    @property
    def label_zh(self) -> str: ...
    @property
    def label_en(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Channel:
    """A named data channel; ``licensed`` means a licensed personal credit-reporting agency."""

    name: str
    licensed: bool
    label_zh: str
    label_en: str


DEFAULT_CHANNELS: Mapping[str, Channel] = {
    c.name: c
    for c in (
        Channel("pboc-crc", True, "中国人民银行征信中心", "PBoC Credit Reference Center"),
        Channel("baihang", True, "百行征信", "Baihang Credit (licensed)"),
        Channel("pudao", True, "朴道征信", "Pudao Credit (licensed)"),
        # a partner platform sending user data straight to the lender: what 断直连 forbids
        Channel("direct-partner", False, "合作平台直连", "Direct partner feed (unlicensed)"),
    )
}


@dataclass(frozen=True, slots=True)
class ConsentRecord:
    """One consent by a subject: for one data source, one purpose; ``separate`` when it was given
    on its own screen (not bundled), as sensitive data requires."""

    subject: str
    source: str
    purpose: str
    separate: bool
    given_at: datetime
    channel: str | None = None
    withdrawn_at: datetime | None = None
    id: str = ""

    def is_active(self, at: datetime) -> bool:
        return self.given_at <= at and (self.withdrawn_at is None or at < self.withdrawn_at)


@dataclass(frozen=True, slots=True)
class ConsentGap:
    """Why one data source may not be used."""

    source: str
    kind: str  # missing | separate | unlicensed | prohibited
    reason_zh: str
    reason_en: str


def validate_consent(record: ConsentRecord) -> None:
    """Refuse a malformed consent record, naming the field."""
    for name in ("subject", "source", "purpose"):
        value = getattr(record, name)
        if not isinstance(value, str) or not value.strip() or len(value) > 64:
            raise ValidationError(name, "is required (1–64 characters)")
    if record.given_at.tzinfo is None:
        raise ValidationError("given_at", "must be timezone-aware")
    if record.channel is not None and not record.channel.strip():
        raise ValidationError("channel", "must be a channel name or absent")


def check_consents(
    sources: Iterable[DataSourceLike],
    consents: Iterable[ConsentRecord],
    *,
    at: datetime,
    channels: Mapping[str, Channel] = DEFAULT_CHANNELS,
) -> list[ConsentGap]:
    """Every data source that may not be used at ``at``, with the reason (see the module doc)."""
    active: dict[tuple[str, str], list[ConsentRecord]] = {}
    for c in consents:
        if c.is_active(at):
            active.setdefault((c.source, c.purpose), []).append(c)
    gaps: list[ConsentGap] = []
    for s in sources:
        if s.category == "prohibited":
            gaps.append(
                ConsentGap(
                    s.name,
                    "prohibited",
                    f"{s.label_zh}属于征信禁止采集的信息，不得用于信用评估",
                    f"{s.label_en} is a category credit reporting may not collect; it cannot be"
                    " used for a credit decision",
                )
            )
            continue
        found = active.get((s.name, s.purpose), [])
        if not found:
            gaps.append(
                ConsentGap(
                    s.name,
                    "missing",
                    f"缺少对“{s.label_zh}”用于{s.purpose}的授权同意",
                    f"missing consent: {s.label_en} ({s.name}) for purpose {s.purpose}",
                )
            )
            continue
        if s.category == "sensitive":
            found = [c for c in found if c.separate]
            if not found:
                gaps.append(
                    ConsentGap(
                        s.name,
                        "separate",
                        f"“{s.label_zh}”属于敏感个人信息，需要单独同意",
                        f"missing separate consent: {s.label_en} ({s.name}) is sensitive personal"
                        " information and needs its own consent",
                    )
                )
                continue
        if s.third_party:
            licensed = [
                c
                for c in found
                if c.channel is not None and c.channel in channels and channels[c.channel].licensed
            ]
            if not licensed:
                named = ", ".join(sorted({c.channel or "none" for c in found}))
                gaps.append(
                    ConsentGap(
                        s.name,
                        "unlicensed",
                        f"第三方数据“{s.label_zh}”须经持牌征信机构获取（当前渠道：{named}）",
                        f"third-party data {s.label_en} ({s.name}) must come through a licensed"
                        f" credit-reporting channel (consented channel: {named})",
                    )
                )
    return gaps
