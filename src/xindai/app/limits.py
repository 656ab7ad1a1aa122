"""Dynamic limits: the daily job that re-evaluates turnover (SME) and carbon limits from fresh
scenario signals and the borrower's current risk level from the real-time engine.

For every open facility of a product whose limit formula reads a dynamic signal family (``sme``,
``carbon``), once per business day:

1. fetch the family's signals for the subject as of the day (the product's ``SignalSource``), drop
   prohibited ones, and evaluate the product's limit formula (adjustments such as the +30% peak
   season uplift, warnings such as the turnover warning that freezes new draws, all from the file);
2. read the subject's risk level; at ``cut_level`` or above the limit is cut by ``cut``; at
   ``freeze_level`` or above new draws are frozen;
3. never decrease below the drawn balance (principal outstanding): a limit below what the borrower
   already owes would put them in breach through no act of their own;
4. when anything changed — limit, freeze, risk level — write an audit-trail row and a notification
   (the outbox) in the same transaction.

Invariants: one transaction per facility (a bad feed for one borrower stops nobody else: its error
is counted and audited); running the job twice on one day changes nothing the second time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_DOWN, Decimal
from typing import Any

from xindai.app.origination import Origination
from xindai.kernel.errors import ConflictError, DomainError
from xindai.money.money import format_yuan
from xindai.products.scenarios.families import SIGNALS, credit_view

DYNAMIC_FAMILIES = ("sme", "carbon")
OPEN_LOAN = ("contracted", "active")


@dataclass(frozen=True, slots=True)
class LimitPolicy:
    cut_level: int = 3
    cut: Decimal = Decimal("0.2")
    freeze_level: int = 4


def dynamic_products(o: Origination) -> list[str]:
    """Codes of the products whose limit formula reads a dynamic signal family."""
    return [
        p.code
        for p in o.catalogue.all()
        if any(SIGNALS[n].family in DYNAMIC_FAMILIES for n in p.limit_signals)
    ]


def review_limits(o: Origination, on: date, policy: LimitPolicy | None = None) -> dict[str, Any]:
    """Run the daily limit review for ``on``; return counts (reviewed, changed, frozen, errors)."""
    policy = policy or LimitPolicy()
    if o.signals is None:
        raise ConflictError("no scenario-signal feed is configured for the limit review")
    codes = dynamic_products(o)
    with o.uow() as uow:
        rows = uow.origination.limits(product_codes=codes, not_reviewed_on=on)
    summary: dict[str, Any] = {"on": on.isoformat(), "reviewed": 0, "changed": 0, "frozen": 0}
    summary["errors"] = 0
    for row in rows:
        if row["loan_status"] not in OPEN_LOAN:
            continue
        try:
            changed = _review_one(o, row, on, policy)
        except DomainError as err:
            summary["errors"] += 1
            with o.uow() as uow:
                uow.origination.audit(
                    row["application_id"],
                    "limit-review",
                    "error",
                    {"error": str(err)},
                    o.clock.now(),
                )
            continue
        summary["reviewed"] += 1
        summary["changed"] += int(changed["changed"])
        summary["frozen"] += int(changed["frozen"])
    return summary


def _review_one(
    o: Origination, row: dict[str, Any], on: date, policy: LimitPolicy
) -> dict[str, Any]:
    assert o.signals is not None
    p = o.catalogue.get(row["product_code"])
    subject = row["subject"]
    signals: dict[str, object] = {}
    for family in sorted({SIGNALS[n].family for n in p.limit_signals}):
        signals.update(o.signals.fetch(subject, family, on))
    result = p.limit_for(credit_view(signals))
    level = o.fraud.level_of(subject)
    new = result.limit_fen
    reasons_zh = [result.explanation_zh]
    reasons_en = [result.explanation_en]
    if level >= policy.cut_level:
        new = int((Decimal(new) * (1 - policy.cut)).to_integral_value(rounding=ROUND_DOWN))
        reasons_zh.append(f"风险等级{level}：额度下调{(policy.cut * 100).normalize():f}%")
        reasons_en.append(f"risk level {level}: limit cut by {(policy.cut * 100).normalize():f}%")
    frozen = result.freeze_new_draws or level >= policy.freeze_level
    drawn = int(row["drawn"])
    if new < drawn:
        reasons_zh.append(f"不低于已用额度{format_yuan(drawn)}元")
        reasons_en.append(f"kept at the drawn balance {format_yuan(drawn)} CNY")
        new = drawn
    old, old_frozen, old_level = int(row["limit_fen"]), bool(row["frozen"]), int(row["risk_level"])
    now = o.clock.now()
    changed = new != old or frozen != old_frozen or level != old_level
    with o.uow() as uow:
        uow.origination.put_limit(
            {
                "application_id": row["application_id"],
                "limit_fen": new,
                "frozen": frozen,
                "risk_level": level,
                "reviewed_on": on,
                "updated_at": now,
            }
        )
        if changed:
            detail = {
                "from": format_yuan(old),
                "to": format_yuan(new),
                "frozen": frozen,
                "risk_level": level,
                "drawn": format_yuan(drawn),
                "flags": list(result.flags),
                "inputs": result.inputs,
                "zh": "；".join(reasons_zh),
                "en": "; ".join(reasons_en),
            }
            uow.origination.audit(row["application_id"], "limit-review", "changed", detail, now)
            kind = "draws-frozen" if frozen and not old_frozen else "limit-changed"
            uow.origination.notify(subject, kind, {"product": p.code, **detail}, now)
    return {"changed": changed, "frozen": frozen}
