"""The farm scenario shared by the integration, API and CLI tests: a co-operative, an inspector,
a buyer and the lender on one consortium log; a 200,000 line in three stages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from xindai.app.chain import ChainKeys, ChainService
from xindai.app.supply_chain import open_line
from xindai.bootstrap import Platform
from xindai.chain.demo import demo_key
from xindai.chain.keys import SigningKey
from xindai.chain.privacy import commit_personal
from xindai.kernel import FixedClock

LINE = "SCF-2026-0001"
START = date(2026, 3, 1)
POLICY = {"roles": ["co-operative", "inspector"], "cosigned": True}
STAGES = [
    {"stage": "sowing", "amount": "50000", "payee": "supplier:seed-co-01", "policy": POLICY},
    {"stage": "growing", "amount": "80000", "payee": "supplier:fertiliser-co-02", "policy": POLICY},
    {"stage": "harvest", "amount": "70000", "payee": "logistics:cold-chain-03", "policy": POLICY},
]
MEMBERS = {
    "coop.hebei-01": "co-operative",
    "inspector.agri-01": "inspector",
    "buyer.mill-07": "buyer",
    "lender.xindai": "lender",
}
SALT = bytes(range(16))


@dataclass
class Farm:
    platform: Platform
    chain: ChainService
    clock: FixedClock
    keys: dict[str, SigningKey]
    loan: str

    def attest(self, stage: str, member: str = "coop.hebei-01") -> int:
        body = {
            "line": LINE,
            "stage": stage,
            "farmer": commit_personal("farmer 0001", SALT),
            "area_mu": 120,
        }
        return self.chain.sign_and_submit("stage.attest", member, body, self.keys[member])

    def confirm(self, stage: str, attestation: int, member: str = "inspector.agri-01") -> int:
        body = {"line": LINE, "stage": stage, "attestation": attestation, "result": "pass"}
        return self.chain.sign_and_submit("stage.confirm", member, body, self.keys[member])


def start_farm(platform: Platform) -> Farm:
    clock = FixedClock(datetime(2026, 3, 1, 8, 0, tzinfo=UTC))
    chain = platform.chain(ChainKeys.demo(), clock)
    keys = {name: demo_key(name) for name in MEMBERS}
    for name, role in MEMBERS.items():
        chain.ledger.register_member(name, role, keys[name].public_key)
    clock.advance(timedelta(hours=1))
    opened = open_line(
        platform.uow,
        platform.products,
        chain,
        line=LINE,
        stages=STAGES,
        limit=20_000_000,
        term=12,
        annual_rate=Decimal("0.06"),
        start_date=START,
    )
    return Farm(platform, chain, clock, keys, opened["loan"])
