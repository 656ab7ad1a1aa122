"""Staged supply-chain credit: a credit line whose tranches are released on attested stages.

A line is a servicing loan of a multi-tranche product (``supply-chain-line``: interest only on what
is drawn) plus a stage plan on the consortium log. The reference plan: 200,000 = sowing 50,000 +
growing 80,000 + harvest 70,000.

On the log (all signed entries):

* ``line.open`` (lender): ``{line, loan, limit, stages: [{stage, amount, payee, policy}]}`` where a
  policy is ``{"roles": ["co-operative", "inspector"], "cosigned": true}``: the stage needs an
  attestation signed by a member of each role, and (``cosigned``) all of them included in a
  checkpoint cosigned by the witness quorum;
* ``stage.attest`` (e.g. co-operative): ``{line, stage, ...}`` — facts, personal data only as
  commitments;
* ``stage.confirm`` (e.g. inspector): ``{line, stage, attestation: <index>, result: "pass"}``;
* ``stage.release`` (lender): the release decision, pointing at the evidence indices and the
  checkpoint (size, root) that includes them, plus the servicing disbursement it caused.

Invariants:

* A stage is released only when its policy holds over entries that verified on the log (a forged
  signature, a revoked or unknown key never got in); a confirmation counts only if it passes and
  points at an attestation of the same line and stage; roles come from the member registry.
* Stages release strictly in plan order, each at most once (the servicing idempotency key
  ``chain:<line>:<stage>`` makes a retried release post nothing twice).
* A stage never attested is never released — there is no override path.
* Money moves through the servicing core only (``open_loan``, ``disburse``); the release's fund
  movements (platform → escrow → payee) are written by servicing's outbox with the disbursement
  (the payee passed along) and published as hash-linked ``fund.move`` entries right after the
  release decision — the outbox is their only owner, so a crash between the two cannot lose or
  double them (any later publisher run finishes the job).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from xindai.app import servicing
from xindai.app.chain import ChainService
from xindai.app.fund_flow import publish_pending, record_repayment, validate_node
from xindai.app.ports import UnitOfWorkFactory
from xindai.chain.entries import Entry
from xindai.chain.keys import SigningKey, key_fingerprint
from xindai.chain.members import Role, parse_role
from xindai.kernel import ConflictError, NotFoundError, ValidationError
from xindai.money.money import format_yuan, parse_yuan
from xindai.servicing import lifecycle
from xindai.servicing.loan import Loan

LINE_PRODUCT = "supply-chain-line"
OPEN_KIND = "line.open"
ATTEST_KIND = "stage.attest"
CONFIRM_KIND = "stage.confirm"
RELEASE_KIND = "stage.release"


@dataclass(frozen=True)
class StagePolicy:
    """Attestations signed by a member of each of ``roles``; ``cosigned``: in a quorum checkpoint."""

    roles: tuple[Role, ...]
    cosigned: bool = True

    def to_json(self) -> dict[str, Any]:
        return {"roles": [r.value for r in self.roles], "cosigned": self.cosigned}

    @classmethod
    def from_json(cls, obj: object, field: str) -> StagePolicy:
        if not isinstance(obj, Mapping) or not isinstance(obj.get("roles"), list):
            raise ValidationError(field, "expected {roles: [...], cosigned: bool}")
        roles = tuple(parse_role(r, f"{field}.roles") for r in obj["roles"])
        if not roles or len(set(roles)) != len(roles):
            raise ValidationError(f"{field}.roles", "needs one or more distinct roles")
        cosigned = obj.get("cosigned", True)
        if not isinstance(cosigned, bool):
            raise ValidationError(f"{field}.cosigned", "must be true or false")
        return cls(roles, cosigned)


@dataclass(frozen=True)
class Stage:
    name: str
    amount: int  # fen
    payee: str
    policy: StagePolicy

    def to_json(self) -> dict[str, Any]:
        return {
            "stage": self.name,
            "amount": format_yuan(self.amount),
            "payee": self.payee,
            "policy": self.policy.to_json(),
        }


@dataclass(frozen=True)
class LinePlan:
    line: str
    loan: str  # servicing loan UUID
    limit: int
    stages: tuple[Stage, ...]

    def stage(self, name: str) -> tuple[int, Stage]:
        for n, s in enumerate(self.stages):
            if s.name == name:
                return n, s
        raise NotFoundError(f"line {self.line} has no stage {name!r}")


def parse_stages(raw: Sequence[Mapping[str, Any]], limit: int) -> tuple[Stage, ...]:
    """Validate a stage plan: distinct names, positive amounts summing to the line limit."""
    stages = []
    for n, item in enumerate(raw):
        field = f"stages[{n}]"
        name = item.get("stage")
        if not isinstance(name, str) or not name or len(name) > 64:
            raise ValidationError(f"{field}.stage", "must be a short name")
        amount = parse_yuan(item.get("amount"), f"{field}.amount")
        if amount <= 0:
            raise ValidationError(f"{field}.amount", "must be positive")
        payee = validate_node(item.get("payee", "borrower"), f"{field}.payee")
        policy = StagePolicy.from_json(item.get("policy"), f"{field}.policy")
        stages.append(Stage(name, amount, payee, policy))
    if not stages:
        raise ValidationError("stages", "a line needs at least one stage")
    if len({s.name for s in stages}) != len(stages):
        raise ValidationError("stages", "stage names must be distinct")
    total = sum(s.amount for s in stages)
    if total != limit:
        raise ValidationError(
            "stages",
            f"stage amounts add up to {format_yuan(total)}, not the limit {format_yuan(limit)}",
        )
    return tuple(stages)


def open_line(
    uow: UnitOfWorkFactory,
    products: servicing.Products,
    chain: ChainService,
    *,
    line: str,
    stages: Sequence[Mapping[str, Any]],
    limit: int,
    term: int,
    annual_rate: Decimal,
    start_date: date,
    borrower_ref: str | None = None,
) -> dict[str, Any]:
    """Contract the servicing line and publish its stage plan on the log (signed by the lender)."""
    if not isinstance(line, str) or not line or len(line) > 64:
        raise ValidationError("line", "must be a short identifier")
    plan = parse_stages(stages, limit)
    chain.ledger.refresh()
    if _entries(chain, line, OPEN_KIND):
        raise ConflictError(f"line {line} is already open")
    loan = servicing.open_loan(
        uow,
        products,
        servicing.OpenLoan(
            product_code=LINE_PRODUCT,
            principal=limit,
            term=term,
            method="interest-only",
            annual_rate=annual_rate,
            start_date=start_date,
            borrower_ref=borrower_ref,
        ),
    )
    body = {
        "line": line,
        "loan": loan["id"],
        "limit": format_yuan(limit),
        "stages": [s.to_json() for s in plan],
    }
    keys = chain.keys
    index = chain.sign_and_submit(OPEN_KIND, keys.lender_member, body, keys.lender_key)
    return {"line": line, "loan": loan["id"], "loan_number": loan["number"], "entry": index}


def _entries(chain: ChainService, line: str, kind: str) -> list[tuple[int, Entry]]:
    ledger = chain.ledger
    out = []
    for i in ledger.indices_about(f"line:{line}"):
        entry = ledger.entry(i)
        if entry.kind == kind:
            out.append((i, entry))
    return out


def load_plan(chain: ChainService, line: str) -> LinePlan:
    chain.ledger.refresh()
    opened = [
        (i, e)
        for i, e in _entries(chain, line, OPEN_KIND)
        if chain.ledger.registry.role_of(e.member) is Role.LENDER
    ]
    if not opened:
        raise NotFoundError(f"no credit line {line!r} on the log")
    _, entry = opened[0]
    body = entry.body
    limit = parse_yuan(body["limit"], "limit")
    return LinePlan(line, str(body["loan"]), limit, parse_stages(body["stages"], limit))


def _releases(chain: ChainService, line: str) -> dict[str, tuple[int, Entry]]:
    return {
        str(e.body["stage"]): (i, e)
        for i, e in _entries(chain, line, RELEASE_KIND)
        if e.member == chain.keys.lender_member
    }


def evaluate_policy(chain: ChainService, line: str, stage: Stage) -> list[int]:
    """Evidence indices satisfying ``stage``'s policy, or ``ConflictError`` saying what is missing."""
    registry = chain.ledger.registry
    attests = {
        i: e for i, e in _entries(chain, line, ATTEST_KIND) if e.body.get("stage") == stage.name
    }
    confirms = {
        i: e
        for i, e in _entries(chain, line, CONFIRM_KIND)
        if e.body.get("stage") == stage.name
        and e.body.get("result") == "pass"
        and e.body.get("attestation") in attests
    }
    evidence: list[int] = []
    missing = []
    for role in stage.policy.roles:
        signed = [
            i for i, e in {**attests, **confirms}.items() if registry.role_of(e.member) is role
        ]
        if signed:
            evidence.append(min(signed))
        else:
            missing.append(role.value)
    if missing:
        raise ConflictError(
            f"stage {stage.name} of {line} is not attested: no valid attestation signed by "
            f"{' and '.join(missing)}"
        )
    return sorted(set(evidence))


def release_stage(
    uow: UnitOfWorkFactory,
    products: servicing.Products,
    chain: ChainService,
    line: str,
    stage_name: str,
    on: date,
) -> dict[str, Any]:
    """Release ``stage_name`` of ``line`` if its policy holds: draw the tranche through servicing,
    log the decision (pointing at the evidence) and the fund movements. Idempotent."""
    plan = load_plan(chain, line)
    position, stage = plan.stage(stage_name)
    released = _releases(chain, line)
    if stage.name in released:
        index, entry = released[stage.name]
        return {**dict(entry.body), "entry": index, "replayed": True}
    for earlier in plan.stages[:position]:
        if earlier.name not in released:
            raise ConflictError(
                f"stage {stage.name} waits for {earlier.name}: stages release in order"
            )
    evidence = evaluate_policy(chain, line, stage)
    checkpoint: dict[str, Any] | None = None
    if stage.policy.cosigned:
        signed = chain.evidence_included(evidence)
        if signed is None:
            raise ConflictError(
                f"stage {stage.name} evidence {evidence} is not yet in a quorum-cosigned checkpoint"
            )
        cp = signed.checkpoint
        checkpoint = {"size": cp.size, "root": base64.b64encode(cp.root).decode("ascii")}
    key = f"chain:{line}:{stage.name}"
    drawn = servicing.disburse(
        uow,
        products,
        plan.loan,
        stage.amount,
        on,
        key,
        payee=stage.payee,
        purpose=f"{line} {stage.name}",
    )
    body = {
        "line": line,
        "loan": plan.loan,
        "stage": stage.name,
        "amount": format_yuan(stage.amount),
        "on": on.isoformat(),
        "evidence": evidence,
        "checkpoint": checkpoint,
        "disbursement": key,
    }
    keys = chain.keys
    index = chain.sign_and_submit(RELEASE_KIND, keys.lender_member, body, keys.lender_key)
    publish_pending(uow, chain, loan=plan.loan)
    return {**body, "entry": index, "disbursed": drawn["disbursed"], "replayed": False}


def line_status(chain: ChainService, line: str) -> dict[str, Any]:
    plan = load_plan(chain, line)
    released = _releases(chain, line)
    stages = []
    for stage in plan.stages:
        item: dict[str, Any] = stage.to_json()
        if stage.name in released:
            index, entry = released[stage.name]
            item.update(status="released", on=entry.body["on"], entry=index)
        else:
            try:
                item.update(status="attested", evidence=evaluate_policy(chain, line, stage))
            except ConflictError as exc:
                item.update(status="waiting", reason=str(exc))
        stages.append(item)
    return {"line": line, "loan": plan.loan, "limit": format_yuan(plan.limit), "stages": stages}


def _scheduled_interest(view: Mapping[str, Any]) -> int:
    return sum(parse_yuan(i["interest"], "interest") for i in view["schedule"])


def stage_report(
    uow: UnitOfWorkFactory, products: servicing.Products, chain: ChainService, line: str
) -> dict[str, Any]:
    """Interest and idle funds of the staged line against the same limit drawn as a lump sum.

    Staged: the servicing loan as drawn (its schedule's interest over the term, exact fen).
    Lump sum: the same contract drawn in full on the first release date, computed by the servicing
    core's ``lifecycle.disburse`` on an in-memory copy. Idle funds: money the lump sum would have
    drawn before a stage needed it, in fen·days (a never-released stage idles to maturity).
    """
    plan = load_plan(chain, line)
    released = _releases(chain, line)
    view = servicing.show_loan(uow, plan.loan)
    draws = [
        (date.fromisoformat(str(released[s.name][1].body["on"])), s)
        for s in plan.stages
        if s.name in released
    ]
    if not draws:
        raise ConflictError(f"line {line} has no released stage yet: nothing to compare")
    first = draws[0][0]
    lump = Loan(
        id=0,
        number="LUMP-SUM",
        product_code=view["product_code"],
        currency=view["currency"],
        annual_rate=Decimal(view["annual_rate"]),
        method=view["method"],
        term=int(view["term"]),
        start_date=date.fromisoformat(view["start_date"]),
        line_amount=plan.limit,
    )
    lifecycle.disburse(lump, products[view["product_code"]], first, plan.limit)
    maturity = lump.installments[-1].due_date
    lump_interest = sum(i.interest for i in lump.installments)
    staged_interest = _scheduled_interest(view)
    drawn_on = {s.name: d for d, s in draws}
    idle = 0
    rows = []
    for stage in plan.stages:
        needed = drawn_on.get(stage.name, maturity)
        days = (needed - first).days
        idle += stage.amount * days
        rows.append(
            {
                "stage": stage.name,
                "amount": format_yuan(stage.amount),
                "released_on": drawn_on[stage.name].isoformat() if stage.name in drawn_on else None,
                "idle_days_if_lump_sum": days,
            }
        )
    term_days = (maturity - first).days
    return {
        "line": line,
        "loan": plan.loan,
        "limit": format_yuan(plan.limit),
        "annual_rate": view["annual_rate"],
        "from": first.isoformat(),
        "maturity": maturity.isoformat(),
        "stages": rows,
        "staged": {
            "drawn": view["disbursed"],
            "interest": format_yuan(staged_interest),
            "idle_fen_days": 0,
        },
        "lump_sum": {
            "drawn": format_yuan(plan.limit),
            "interest": format_yuan(lump_interest),
            "idle_fen_days": idle,
            "average_idle_balance": format_yuan(idle // term_days) if term_days else "0.00",
        },
        "interest_saved": format_yuan(lump_interest - staged_interest),
    }


# --- the farm demo: the reference line on a real database, for docs, the CLI and e2e tests -------

FARM_LINE = "SCF-2026-0001"
FARM_START = date(2026, 3, 1)
FARM_POLICY = {"roles": ["co-operative", "inspector"], "cosigned": True}
FARM_STAGES = (
    {"stage": "sowing", "amount": "50000", "payee": "supplier:seed-co-01", "policy": FARM_POLICY},
    {
        "stage": "growing",
        "amount": "80000",
        "payee": "supplier:fertiliser-co-02",
        "policy": FARM_POLICY,
    },
    {
        "stage": "harvest",
        "amount": "70000",
        "payee": "logistics:cold-chain-03",
        "policy": FARM_POLICY,
    },
)
FARM_MEMBERS = {
    "coop.hebei-01": Role.COOPERATIVE,
    "inspector.agri-01": Role.INSPECTOR,
    "buyer.mill-07": Role.BUYER,
    "lender.xindai": Role.LENDER,
}
FARM_RELEASES = (("sowing", date(2026, 3, 5)), ("growing", date(2026, 5, 10)))
FARM_REPAYMENT = date(2026, 6, 5)


def attestation_body(line: str, stage: str, farmer_commitment: str) -> dict[str, Any]:
    return {"line": line, "stage": stage, "farmer": farmer_commitment, "area_mu": 120}


def confirmation_body(line: str, stage: str, attestation: int) -> dict[str, Any]:
    return {"line": line, "stage": stage, "attestation": attestation, "result": "pass"}


def open_farm_line(
    uow: UnitOfWorkFactory,
    products: servicing.Products,
    chain: ChainService,
    member_keys: Mapping[str, SigningKey],
) -> dict[str, Any]:
    """Register the farm members and open the 200,000 line in three stages."""
    chain.ledger.refresh()
    for name, role in FARM_MEMBERS.items():
        # the lender's key may already be registered (the fund-flow publisher registers it)
        if chain.ledger.registry.record(key_fingerprint(member_keys[name].public_key)) is None:
            chain.ledger.register_member(name, role, member_keys[name].public_key)
    return open_line(
        uow,
        products,
        chain,
        line=FARM_LINE,
        stages=FARM_STAGES,
        limit=20_000_000,
        term=12,
        annual_rate=Decimal("0.06"),
        start_date=FARM_START,
    )


def run_farm_demo(
    uow: UnitOfWorkFactory,
    products: servicing.Products,
    chain: ChainService,
    member_keys: Mapping[str, SigningKey],
) -> dict[str, Any]:
    """The farm line with sowing and growing attested (co-operative + inspector), cosigned and
    released; harvest stays unattested."""
    from xindai.chain.privacy import commit_personal

    opened = open_farm_line(uow, products, chain, member_keys)
    farmer = commit_personal("demo farmer 0001", b"xindai-demo-salt")
    coop, inspector = "coop.hebei-01", "inspector.agri-01"
    releases = []
    for stage, on in FARM_RELEASES:
        attest = chain.sign_and_submit(
            ATTEST_KIND, coop, attestation_body(FARM_LINE, stage, farmer), member_keys[coop]
        )
        chain.sign_and_submit(
            CONFIRM_KIND,
            inspector,
            confirmation_body(FARM_LINE, stage, attest),
            member_keys[inspector],
        )
        chain.cosign()
        releases.append(release_stage(uow, products, chain, FARM_LINE, stage, on))
    # the mill pays part of the interest straight into the line's repayment account
    record_repayment(
        uow, products, chain, opened["loan"], "buyer:mill-07", 50_000, FARM_REPAYMENT, "farm-demo-1"
    )
    chain.cosign()
    return {**opened, "releases": releases, "size": chain.size()}
