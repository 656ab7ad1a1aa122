"""The fund-flow page of a loan: where its money went, drawn as a graph, every edge checked in the
borrower's browser against the cosigned checkpoint.

The graph and its proofs come from the fund-flow use case (``xindai.app.fund_flow``, the same as
``GET /v1/loans/{id}/fund-flow``). The page embeds, per edge, the exact log entry bytes, their
inclusion proof and the checkpoint note; a small self-contained script (``verify.js``, WebCrypto
SHA-256 and Ed25519) recomputes the leaf hash from the entry, checks that the entry says what the
graph draws (from, to, amount, date, loan), verifies the RFC 9162 inclusion proof to the root of
the checkpoint, and the operator's signature on that checkpoint — so the borrower need not trust
the server's word. The operator's key is printed so it can be compared with the one the
consortium publishes.

Invariants: the page only reads (the chain service is refreshed, never written); layout is pure
presentation (columns by longest path from the sources), amounts are shown as the log holds them.
"""

from __future__ import annotations

import base64
import json
import threading
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from xindai.app.chain import ChainService
from xindai.app.fund_flow import loan_fund_flow
from xindai.app.servicing import show_loan
from xindai.web import i18n
from xindai.web.journey import PageError, guarded
from xindai.web.render import Lang, platform_of, render

router = APIRouter(prefix="/web", include_in_schema=False)

# The ledger's in-memory member registry is shared: one call at a time (the API keeps its own
# service and lock; both catch up with the database before every read).
_lock = threading.Lock()

NODE_W, NODE_H, COL_W, ROW_H, PAD = 170, 54, 330, 96, 20


def _chain(request: Request) -> ChainService:
    state = request.app.state
    with _lock:
        if getattr(state, "web_chain", None) is None:
            state.web_chain = platform_of(request).chain()
        service: ChainService = state.web_chain
    return service


def layout(nodes: list[str], edges: list[dict[str, Any]]) -> dict[str, Any]:
    """Columns by longest path from the sources (a cycle is cut after len(nodes) rounds), rows in
    order of appearance; edge labels are offset when several edges join the same pair."""
    col = dict.fromkeys(nodes, 0)
    for _ in range(len(nodes)):
        changed = False
        for e in edges:
            if col[e["to"]] < col[e["from"]] + 1 and col[e["from"]] + 1 < len(nodes):
                col[e["to"]] = col[e["from"]] + 1
                changed = True
        if not changed:
            break
    rows: dict[int, int] = {}
    pos: dict[str, tuple[int, int]] = {}
    for n in nodes:
        r = rows.get(col[n], 0)
        rows[col[n]] = r + 1
        pos[n] = (PAD + col[n] * COL_W, PAD + r * ROW_H)
    placed_nodes = [{"id": n, "x": x, "y": y} for n, (x, y) in pos.items()]
    seen: dict[tuple[str, str], int] = {}
    placed_edges = []
    for i, e in enumerate(edges):
        (x1, y1), (x2, y2) = pos[e["from"]], pos[e["to"]]
        k = seen.get((e["from"], e["to"]), 0)
        seen[(e["from"], e["to"])] = k + 1
        ax, ay, bx, by = float(x1 + NODE_W), y1 + NODE_H / 2, float(x2), y2 + NODE_H / 2
        if x2 <= x1:  # backwards or same column: leave from the bottom, arrive at the bottom
            ax, ay, bx, by = x1 + NODE_W / 2, y1 + NODE_H, x2 + NODE_W / 2, y2 + NODE_H
        placed_edges.append(
            {
                "n": i,
                "x1": ax,
                "y1": ay,
                "x2": bx,
                "y2": by,
                "lx": (ax + bx) / 2,
                "ly": (ay + by) / 2 - 6 + 38 * k,
            }
        )
    width = PAD * 2 + max((x for x, _ in pos.values()), default=0) + NODE_W
    height = PAD * 2 + max((y for _, y in pos.values()), default=0) + NODE_H + 30
    return {"nodes": placed_nodes, "edges": placed_edges, "width": width, "height": height}


def node_label(node: str, lang: str) -> str:
    kind, _, rest = node.partition(":")
    word = i18n.label(i18n.NODES, kind, lang)
    if not rest:
        return word
    if kind == "farmer":  # a salted commitment: show its start, never pretend it is a name
        rest = rest.removeprefix("commit:sha256:")[:10] + "…"
    return f"{word} {rest}"


@router.get("/loans/{ref}/fund-flow", response_class=HTMLResponse)
def fund_flow_page(request: Request, ref: str, lang: Lang = None) -> Response:
    lng = i18n.pick_lang(lang)
    platform = platform_of(request)
    if ref.isdigit():  # borrowers use the number or UUID, never the guessable internal id
        raise PageError(404, f"no loan {ref}")
    loan = guarded(lambda: show_loan(platform.uow, ref))
    chain = _chain(request)
    with _lock:
        # movements still in the outbox are published first (as the API read does)
        flow = loan_fund_flow(platform.uow, chain, loan["id"])
        # the exact bytes of each entry: the browser hashes them itself (RFC 9162 leaf)
        entries = [
            base64.b64encode(chain.ledger.log.entry(e["entry_index"])).decode("ascii")
            for e in flow["edges"]
        ]
        operator_vkey = chain.keys.operator.verifier.to_vkey()
        policy = chain.keys.policy
        witness_vkeys = [w.to_vkey() for w in policy.witnesses]
    names = [n["id"] for n in flow["nodes"]]
    data = {
        "loan": loan["id"],
        "checkpoint": flow["checkpoint"],
        "operator_vkey": operator_vkey,
        "witnesses": witness_vkeys,
        "threshold": policy.threshold,
        "edges": [
            {
                "n": n,
                "from": e["from"],
                "to": e["to"],
                "amount": e["amount"],
                "at": e["at"],
                "index": e["entry_index"],
                "entry": entries[n],
                "proof": e["inclusion_proof"],
            }
            for n, e in enumerate(flow["edges"])
        ],
    }
    return render(
        request,
        "fund_flow.html",
        lng,
        loan=loan,
        flow=flow,
        graph=layout(names, flow["edges"]),
        node_label=lambda node: node_label(node, lng),
        node_w=NODE_W,
        node_h=NODE_H,
        # no "<" at all inside the script element (nothing in the data can close or comment it)
        data_json=json.dumps(data, ensure_ascii=False).replace("<", "\\u003c"),
        operator_vkey=operator_vkey,
        witness_vkeys=witness_vkeys,
    )
