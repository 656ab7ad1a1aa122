"""``/v1/chain``: the consortium log over HTTP, and ``/v1/loans/{id}/fund-flow``.

* Members submit signed entries (one entry object, or ``{"entries": [...]}`` appended all or
  nothing). Malformed JSON, a bad signature, an unknown or revoked key → 422 naming the entry and
  field; nothing is appended.
* Anyone fetches entries, the latest checkpoint (a C2SP signed note with the witnesses'
  cosignatures), inclusion and consistency proofs (base64 hashes). Sizes outside the log → 422.
* Hosted witnesses answer ``POST /v1/chain/witnesses/{name}/add-checkpoint`` with the
  c2sp.org/tlog-witness semantics: body ``old <size>`` + proof lines + empty line + checkpoint;
  200 with the ``cosignature/v1`` line; 400 malformed or old size above the checkpoint size; 403
  not signed by the log's key; 404 unknown witness or origin; 409 (``text/x.tlog.size`` body: the
  size the witness last cosigned) when ``old`` is not that size or the same size has another
  root; 422 when the consistency proof does not verify (evidence of equivocation is kept).

One ``ChainService`` per app (the ledger is rebuilt from the database once, then refreshed on
every request); calls are serialised by a lock because the ledger's in-memory registry is shared.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Header, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import PlainTextResponse, Response
from pydantic import BaseModel, Field

from xindai.api.deps import PlatformDep
from xindai.app import servicing
from xindai.app.chain import ChainService, WitnessRefusal
from xindai.app.fund_flow import loan_fund_flow, publish_after_command, record_repayment
from xindai.app.supply_chain import line_status, stage_report
from xindai.kernel.dates import parse_date
from xindai.money.money import parse_yuan

router = APIRouter(tags=["chain"])

T = TypeVar("T")
_lock = threading.Lock()
_ENTRY_SCHEMA = {
    "type": "object",
    "description": "A signed entry {v, kind, member, key, ts, body, sig} or {entries: [...]}",
    "example": {
        "v": 1,
        "kind": "stage.attest",
        "member": "coop.hebei-01",
        "key": "97589dc3942e7f49",
        "ts": 1772359200,
        "body": {"line": "SCF-2026-0001", "stage": "sowing"},
        "sig": "<base64 Ed25519 signature>",
    },
}


def chain_of(platform: Any, request: Request) -> ChainService:
    state = request.app.state
    with _lock:
        if getattr(state, "chain_service", None) is None:
            state.chain_service = platform.chain()
        service: ChainService = state.chain_service
    return service


def _locked(fn: Callable[[], T]) -> T:
    with _lock:
        return fn()


def publish_flows(
    platform: Any, request: Request, loan_ref: str, result: dict[str, Any]
) -> dict[str, Any]:
    """After a money command: publish the loan's pending fund movements (best effort, never
    failing the command), then return the command's ``result`` unchanged."""
    publish_after_command(platform.uow, lambda: chain_of(platform, request), loan_ref, _lock)
    return result


@router.post(
    "/v1/chain/entries",
    status_code=201,
    summary="Submit member-signed entries (all or nothing)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": _ENTRY_SCHEMA}},
        }
    },
)
async def submit_entries(request: Request, platform: PlatformDep) -> dict[str, Any]:
    raw = await request.body()
    chain = chain_of(platform, request)

    def submit() -> dict[str, Any]:
        indices = chain.submit_json(raw)
        return {"indices": indices, "size": chain.size()}

    return await run_in_threadpool(_locked, submit)


@router.get("/v1/chain/entries/{index}", summary="One entry with its leaf hash")
def get_entry(index: int, request: Request, platform: PlatformDep) -> dict[str, Any]:
    chain = chain_of(platform, request)
    return _locked(lambda: chain.entry(index))


@router.get("/v1/chain/members", summary="The member registry, replayed from the log")
def members(request: Request, platform: PlatformDep) -> list[dict[str, Any]]:
    chain = chain_of(platform, request)

    def read() -> list[dict[str, Any]]:
        chain.size()
        return [
            {
                "member": r.member,
                "role": r.role.value,
                "key": r.fingerprint,
                "registered_at": r.registered_at,
                "revoked_at": r.revoked_at,
            }
            for r in chain.ledger.registry.records()
        ]

    return _locked(read)


@router.get(
    "/v1/chain/checkpoint",
    summary="The latest signed checkpoint with its cosignatures (C2SP signed note)",
    response_class=PlainTextResponse,
)
def latest_checkpoint(request: Request, platform: PlatformDep) -> PlainTextResponse:
    chain = chain_of(platform, request)

    def read() -> str:
        stored = chain.repo.checkpoints()
        if not stored:  # nothing signed yet: sign the current head without storing (a GET)
            chain.size()
            return chain.ledger.checkpoint().text()
        return chain.stored_checkpoint(stored[-1][0]).text()

    return PlainTextResponse(_locked(read))


@router.post(
    "/v1/chain/checkpoints", summary="Sign the tree head and collect the hosted cosignatures"
)
def cosign(request: Request, platform: PlatformDep) -> dict[str, Any]:
    chain = chain_of(platform, request)

    def run() -> dict[str, Any]:
        signed = chain.cosign()
        return {
            "size": signed.checkpoint.size,
            "cosigners": chain.policy.cosigners(signed),
            "quorum": chain.policy.is_met(signed),
            "note": signed.text(),
        }

    return _locked(run)


@router.get(
    "/v1/chain/proofs/inclusion", summary="RFC 9162 inclusion proof of entry `index` in tree `size`"
)
def inclusion(
    request: Request,
    platform: PlatformDep,
    index: Annotated[int, Query(ge=0)],
    size: Annotated[int | None, Query(ge=1, description="default: the current size")] = None,
) -> dict[str, Any]:
    chain = chain_of(platform, request)
    return _locked(lambda: chain.inclusion(index, size))


@router.get(
    "/v1/chain/proofs/consistency", summary="RFC 9162 consistency proof from `old` to `size`"
)
def consistency(
    request: Request,
    platform: PlatformDep,
    old: Annotated[int, Query(ge=1)],
    size: Annotated[int | None, Query(ge=1, description="default: the current size")] = None,
) -> dict[str, Any]:
    chain = chain_of(platform, request)
    return _locked(lambda: chain.consistency(old, size))


@router.post(
    "/v1/chain/witnesses/{witness:path}/add-checkpoint",
    summary="C2SP tlog-witness add-checkpoint for a witness hosted here",
    response_class=PlainTextResponse,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"text/plain": {"schema": {"type": "string", "example": "old 0\n\n<note>"}}},
        }
    },
)
async def add_checkpoint(witness: str, request: Request, platform: PlatformDep) -> Response:
    raw = await request.body()
    chain = chain_of(platform, request)
    try:
        line = await run_in_threadpool(_locked, lambda: chain.witness_add_checkpoint(witness, raw))
    except WitnessRefusal as exc:
        if exc.status == 409 and exc.known_size is not None:
            return Response(f"{exc.known_size}\n", status_code=409, media_type="text/x.tlog.size")
        return PlainTextResponse(str(exc) + "\n", status_code=exc.status)
    return PlainTextResponse(line)


@router.get(
    "/v1/chain/lines/{line}", summary="A staged credit line: its plan and each stage's status"
)
def get_line(line: str, request: Request, platform: PlatformDep) -> dict[str, Any]:
    chain = chain_of(platform, request)
    return _locked(lambda: line_status(chain, line))


@router.get(
    "/v1/chain/lines/{line}/stage-report", summary="Staged vs lump sum: interest and idle funds"
)
def get_stage_report(line: str, request: Request, platform: PlatformDep) -> dict[str, Any]:
    chain = chain_of(platform, request)
    return _locked(lambda: stage_report(platform.uow, platform.products, chain, line))


@router.get(
    "/v1/loans/{loan_id}/fund-flow",
    summary="Where the loan's money went: nodes, edges with amounts, times and inclusion proofs",
    description="Publishes the loan's pending fund movements (the servicing outbox) first; any "
    "that could not be logged are listed under `pending`, without proofs.",
)
def get_fund_flow(loan_id: str, request: Request, platform: PlatformDep) -> dict[str, Any]:
    chain = chain_of(platform, request)
    loan = servicing.show_loan(platform.uow, loan_id)["id"]  # id, UUID or number; 404 if unknown
    # pending movements of the loan are published first; any left are listed under "pending"
    return _locked(lambda: loan_fund_flow(platform.uow, chain, loan))


class RepaymentIn(BaseModel):
    payer: str = Field(examples=["buyer:mill-07"], description="Fund-flow node that paid.")
    amount: str = Field(examples=["500.00"], description="Yuan, at most two decimals.")
    on: str = Field(examples=["2026-06-05"], description="Value date, YYYY-MM-DD.")


@router.post(
    "/v1/loans/{loan_id}/fund-flow/repayments",
    summary="Repay through servicing and log the movement payer → repayment on the chain",
)
def post_repayment(
    loan_id: str,
    body: RepaymentIn,
    request: Request,
    platform: PlatformDep,
    key: Annotated[str, Header(alias="Idempotency-Key")],
) -> dict[str, Any]:
    chain = chain_of(platform, request)
    amount = parse_yuan(body.amount, "amount")
    on = parse_date(body.on, "on")
    return _locked(
        lambda: record_repayment(
            platform.uow, platform.products, chain, loan_id, body.payer, amount, on, key
        )
    )
