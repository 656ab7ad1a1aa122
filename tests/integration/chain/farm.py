"""The farm scenario shared by the integration, API and CLI tests: a co-operative, an inspector,
a buyer and the lender on one consortium log; a 200,000 line in three stages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from xindai.app.chain import ChainKeys, ChainService
from xindai.app.supply_chain import (
    FARM_LINE,
    FARM_MEMBERS,
    attestation_body,
    confirmation_body,
    open_farm_line,
)
from xindai.bootstrap import Platform
from xindai.chain.demo import demo_key
from xindai.chain.keys import SigningKey
from xindai.chain.privacy import commit_personal
from xindai.kernel import FixedClock

LINE = FARM_LINE
MEMBERS = FARM_MEMBERS
SALT = bytes(range(16))


@dataclass
class Farm:
    platform: Platform
    chain: ChainService
    clock: FixedClock
    keys: dict[str, SigningKey]
    loan: str

    def attest(self, stage: str, member: str = "coop.hebei-01") -> int:
        body = attestation_body(LINE, stage, commit_personal("farmer 0001", SALT))
        return self.chain.sign_and_submit("stage.attest", member, body, self.keys[member])

    def confirm(self, stage: str, attestation: int, member: str = "inspector.agri-01") -> int:
        body = confirmation_body(LINE, stage, attestation)
        return self.chain.sign_and_submit("stage.confirm", member, body, self.keys[member])


def start_farm(platform: Platform) -> Farm:
    clock = FixedClock(datetime(2026, 3, 1, 8, 0, tzinfo=UTC))
    chain = platform.chain(ChainKeys.demo(), clock)
    keys = {name: demo_key(name) for name in MEMBERS}
    opened = open_farm_line(platform.uow, platform.products, chain, keys)
    return Farm(platform, chain, clock, keys, opened["loan"])
