"""``SqlChainRepository``: the consortium chain's persistence port on SQLite or PostgreSQL.

Holds, per log (``log_id``):

* the Merkle log itself through :class:`~xindai.store.chain_tiles.SqlTileStore` (entries —
  member registrations and revocations included — and subtree hashes);
* operator-signed checkpoints (``chain_checkpoints``) and the witness cosignatures collected for
  them (``chain_cosignatures``) — both append-only, refused ``UPDATE``/``DELETE`` by triggers
  (migration 0005); writing the same checkpoint or cosignature again is a no-op;
* each hosted witness's latest cosigned checkpoint (``chain_witness_state``): moved forward with a
  compare-and-set on the size it expects, so two requests can never both advance it;
* equivocation evidence (``chain_equivocations``), append-only.

Nothing here decides anything: what to sign and when a witness may cosign is the domain's and
the use cases' business (``xindai.chain``, ``xindai.app.chain``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, and_, insert, select, update
from sqlalchemy.exc import IntegrityError

from xindai.chain.witness import Equivocation
from xindai.kernel.errors import ConflictError
from xindai.store.chain_tiles import SqlTileStore
from xindai.store.tables import (
    chain_checkpoints,
    chain_cosignatures,
    chain_equivocations,
    chain_witness_state,
)


class SqlChainRepository:
    def __init__(self, engine: Engine, log_id: str = "consortium") -> None:
        self.engine = engine
        self.log_id = log_id
        self._tiles = SqlTileStore(engine, log_id)

    def tiles(self) -> SqlTileStore:
        return self._tiles

    # --- checkpoints and cosignatures ----------------------------------------------------------

    def save_checkpoint(self, size: int, root: bytes, note: str, signed_at: int) -> str:
        """Store an operator-signed checkpoint; if one is stored for ``size``, return that one."""
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(chain_checkpoints),
                    {
                        "log_id": self.log_id,
                        "size": size,
                        "root": root,
                        "note": note,
                        "signed_at": signed_at,
                    },
                )
            return note
        except IntegrityError:
            stored = self.checkpoint(size)
            assert stored is not None
            if stored[0] != root:
                raise ConflictError(f"a different root is already signed for size {size}") from None
            return stored[1]

    def checkpoint(self, size: int) -> tuple[bytes, str] | None:
        """(root, operator-signed note) stored for ``size``."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(chain_checkpoints.c.root, chain_checkpoints.c.note).where(
                    chain_checkpoints.c.log_id == self.log_id, chain_checkpoints.c.size == size
                )
            ).first()
        return None if row is None else (bytes(row.root), str(row.note))

    def checkpoints(self) -> list[tuple[int, bytes, str]]:
        """Every stored checkpoint as (size, root, note), smallest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(chain_checkpoints.c.size, chain_checkpoints.c.root, chain_checkpoints.c.note)
                .where(chain_checkpoints.c.log_id == self.log_id)
                .order_by(chain_checkpoints.c.size)
            ).all()
        return [(int(r.size), bytes(r.root), str(r.note)) for r in rows]

    def add_cosignature(self, size: int, witness: str, line: str, cosigned_at: int) -> None:
        """Keep a witness's cosignature line for checkpoint ``size`` (first one wins)."""
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(chain_cosignatures),
                    {
                        "log_id": self.log_id,
                        "size": size,
                        "witness": witness,
                        "line": line,
                        "cosigned_at": cosigned_at,
                    },
                )
        except IntegrityError:
            pass  # this witness already cosigned this checkpoint: one line is enough

    def cosignatures(self, size: int) -> list[str]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(chain_cosignatures.c.line)
                .where(
                    chain_cosignatures.c.log_id == self.log_id, chain_cosignatures.c.size == size
                )
                .order_by(chain_cosignatures.c.witness)
            ).all()
        return [str(r.line) for r in rows]

    # --- hosted witnesses ----------------------------------------------------------------------

    def witness_state(self, witness: str) -> str | None:
        """The latest checkpoint note ``witness`` cosigned, or None before its first."""
        with self.engine.connect() as conn:
            found = conn.execute(
                select(chain_witness_state.c.note).where(
                    chain_witness_state.c.log_id == self.log_id,
                    chain_witness_state.c.witness == witness,
                )
            ).scalar()
        return None if found is None else str(found)

    def advance_witness(self, witness: str, old_size: int | None, size: int, note: str) -> None:
        """Move ``witness`` from ``old_size`` (None: no state yet) to ``size``; ConflictError if
        another request moved it first."""
        t = chain_witness_state
        try:
            with self.engine.begin() as conn:
                if old_size is None:
                    conn.execute(
                        insert(t),
                        {"log_id": self.log_id, "witness": witness, "size": size, "note": note},
                    )
                    return
                done = conn.execute(
                    update(t)
                    .where(
                        and_(
                            t.c.log_id == self.log_id, t.c.witness == witness, t.c.size == old_size
                        )
                    )
                    .values(size=size, note=note)
                )
                if done.rowcount != 1:
                    raise ConflictError(f"witness {witness} moved past size {old_size} meanwhile")
        except IntegrityError:
            raise ConflictError(
                f"witness {witness} cosigned its first checkpoint meanwhile"
            ) from None

    def add_equivocation(self, witness: str, evidence: Equivocation, detected_at: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                insert(chain_equivocations),
                {
                    "log_id": self.log_id,
                    "witness": witness,
                    "kind": evidence.kind,
                    "first_note": evidence.first,
                    "second_note": evidence.second,
                    "detail": evidence.detail,
                    "detected_at": detected_at,
                },
            )

    def equivocations(self) -> list[dict[str, Any]]:
        t = chain_equivocations
        with self.engine.connect() as conn:
            rows = conn.execute(select(t).where(t.c.log_id == self.log_id).order_by(t.c.id)).all()
        return [
            {
                "witness": r.witness,
                "kind": r.kind,
                "first": r.first_note,
                "second": r.second_note,
                "detail": r.detail,
                "detected_at": int(r.detected_at),
            }
            for r in rows
        ]
