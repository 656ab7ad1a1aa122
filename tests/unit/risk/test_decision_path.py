"""The decision path's fast pieces equal the plain ones they stand in for."""

from __future__ import annotations

import dataclasses
import inspect

import pytest

from xindai.risk.cases import Watchlists
from xindai.risk.decisions import Decision, RuleHit, new_decision
from xindai.risk.rules import Action


def test_new_decision_equals_the_dataclass() -> None:
    hit = RuleHit("r1", Action.BLOCK, 3.0, "原因", "reason")
    args = (
        "d-1",
        "e-1",
        "u1",
        "login",
        "2025-01-01T00:00:00+00:00",
        Action.BLOCK,
        3.0,
        (hit,),
        (),
        {"x": 1.0},
        0.5,
        None,
        1,
        2,
        12.5,
        ("boom",),
        "ip:1.2.3.4",
        1,
    )
    fast, plain = new_decision(*args), Decision(*args)
    assert fast == plain
    assert [getattr(fast, f.name) for f in dataclasses.fields(Decision)] == list(args)
    # Every field is a parameter, in order: a new field cannot be forgotten silently.
    assert list(inspect.signature(new_decision).parameters) == [
        f.name for f in dataclasses.fields(Decision)
    ]
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.action = Action.ALLOW  # type: ignore[misc]


def test_screen_equals_whitelisted_and_blacklisted_also_after_load() -> None:
    lists = Watchlists()
    assert lists.screen("u1", "d1", "ip1") == (False, None)
    lists.add("device", "d1")
    lists.add("subject", "vip", black=False)
    for subject, device, ip in [("u1", "d1", None), ("vip", None, "ip1"), ("u2", None, None)]:
        assert lists.screen(subject, device, ip) == (
            lists.whitelisted(subject),
            lists.blacklisted(subject, device, ip),
        )
    other = Watchlists()
    other.load(lists.dump())
    assert other.screen("vip", "d1", None) == (True, "device:d1")
    other.load({"black": {}, "white": {}})
    assert other.screen("vip", "d1", None) == (False, None)
