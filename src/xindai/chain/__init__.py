"""The consortium chain: a verifiable, multi-signed transparency log (pure domain, no I/O).

Modules, bottom-up:

* ``merkle``     RFC 9162 hashing, proof shapes, ``verify_inclusion`` / ``verify_consistency``
* ``tiles``      ``TileStore`` port (append-only entries + complete-subtree hashes), in-memory store
* ``log``        ``MerkleLog``: batch appends, roots and O(log n) proofs from tiles, ``audit``
* ``jcs``        RFC 8785 canonical JSON
* ``keys``       Ed25519 keys; canonical, prime-order public keys only
* ``privacy``    ``commit_personal`` and the no-personal-data validator
* ``entries``    signed entry envelopes
* ``members``    the member registry, replayed from membership entries
* ``note``       C2SP signed notes and vkeys
* ``checkpoint`` C2SP checkpoints and ``cosignature/v1``
* ``witness``    witnesses, k-of-n ``QuorumPolicy``, ``Equivocation`` evidence
* ``ledger``     ``ChainLedger``: entries + registry + checkpoints over a ``TileStore``
* ``bundle``     offline proof bundles: ``export_bundle`` / ``verify_bundle``
* ``demo``       a deterministic demo log for docs and end-to-end tests

Invariants: nothing here imports a framework or touches a database; every verifier is pure and
reports failure with ``ProofError`` or ``ValidationError`` (or a report listing each check).
"""

from xindai.chain.bundle import BundleReport, Check, export_bundle, verify_bundle
from xindai.chain.checkpoint import (
    Checkpoint,
    Cosigner,
    SignedCheckpoint,
    open_checkpoint,
    sign_checkpoint,
)
from xindai.chain.entries import Entry, parse_entry, sign_entry
from xindai.chain.keys import SigningKey, validate_public_key
from xindai.chain.ledger import ChainLedger
from xindai.chain.log import AuditResult, MerkleLog
from xindai.chain.members import KeyRecord, MemberRegistry, Role
from xindai.chain.merkle import ProofError, verify_consistency, verify_inclusion
from xindai.chain.note import NoteSigner, VerifierKey, parse_vkey
from xindai.chain.privacy import commit_personal, validate_no_personal_data
from xindai.chain.tiles import InMemoryTileStore, TileStore
from xindai.chain.witness import Equivocation, EquivocationError, QuorumPolicy, Witness

__all__ = [
    "AuditResult",
    "BundleReport",
    "ChainLedger",
    "Check",
    "Checkpoint",
    "Cosigner",
    "Entry",
    "Equivocation",
    "EquivocationError",
    "InMemoryTileStore",
    "KeyRecord",
    "MemberRegistry",
    "MerkleLog",
    "NoteSigner",
    "ProofError",
    "QuorumPolicy",
    "Role",
    "SignedCheckpoint",
    "SigningKey",
    "TileStore",
    "VerifierKey",
    "Witness",
    "commit_personal",
    "export_bundle",
    "open_checkpoint",
    "parse_entry",
    "parse_vkey",
    "sign_checkpoint",
    "sign_entry",
    "validate_no_personal_data",
    "validate_public_key",
    "verify_bundle",
    "verify_consistency",
    "verify_inclusion",
]
