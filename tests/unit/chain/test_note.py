"""C2SP signed notes, checkpoints and cosignatures, including published interop vectors."""

from __future__ import annotations

import base64
import dataclasses

import pytest

from xindai.chain.checkpoint import (
    Checkpoint,
    Cosigner,
    open_checkpoint,
    parse_checkpoint,
    sign_checkpoint,
    verify_cosignature,
)
from xindai.chain.keys import SigningKey
from xindai.chain.note import (
    Note,
    NoteSignature,
    NoteSigner,
    open_note,
    parse_note,
    parse_vkey,
    sign_note,
    verify_note_signature,
)
from xindai.kernel import ValidationError

from .helpers import key

# golang.org/x/mod/sumdb/note: the PeterNeumann example (signed-note's reference vector).
GO_SKEY_MATERIAL = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_NOTE = (
    GO_TEXT
    + "\n— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)

# A published CT checkpoint with witness cosignatures (cosignature/v1, key type 0x04).
REAL_CHECKPOINT = """arche2025h1.staging.ct.transparency.dev
1432088532
U7WM79jrzyhGZ5/GUBTpM7NzwdyfFx61t3RovgcC4Ro=

— arche2025h1.staging.ct.transparency.dev zTM8sQAAAZ5W0WdjBAMARjBEAiBjW5IQf9pvsYLfQFX6hoGREPMHbdQ3urbllzalApkptQIgIpwtEroeW2BXaHAI4kJXFbon5Ch9MNL5zRNZ55lvGt0=
— arche2025h1.staging.ct.transparency.dev ui8GwCF1+kWqZrxGdhj4aX3gcw7XUlXQQabg/27lefwhUkzbC3NygNI75MdhL1bfTW9g8Ei59RA23oHP7Ry1k3ZFWwQ=
— transparency.dev/DEV:witness-little-garden 2AQqhwAAAABqEiEgzgFIqqhbUoDwjMWE6UP8nd8/KYTzwZ2rhIgcqoXHAwVkjZr4AscylP3v7sEodkRAErumC2q44vdgJY096st5BQ==
— witness1.smartit.nu/witness1 pIyCDwAAAABqEiEghIp82KWebrw7/oHQwlTAm3g2RKS4+eebl8eO0WH+/iEcxZ75W3u5hNI7TOQtmJbqmNWVuE0tgh0XwzdZsDsUAQ==
— remora.n621.de 2net5wAAAABqEiEgPlfF3V06o0Y+fHM+J5J9s27wgxxcOVSpZ/2g/KSiXCg9DEZI+aVCIobWX9sXTynk5XeU/zZ0WBxtqB0DrAWfBw==
— witness.stagemole.eu Z/euoAAAAABqEiEgw0i+7g2ENfDAWHmtRzCfKTHSDwYDJA2NmKeGi9Y8FtEyOUvVr+AJmIY/2TUFucgKi7lI7cUiOvKFYe/TmN9DAg==
"""
REAL_WITNESSES = [
    "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2",
    "witness.stagemole.eu+67f7aea0+BEqSG3yu9YrmcM3BHvQYTxwFj3uSWakQepafafpUqklv",
    "transparency.dev/DEV:witness-little-garden+d8042a87+BCtusOxINQNUTN5Oj8HObRkh2yHf/MwYaGX4CPdiVEPM",
    "witness1.smartit.nu/witness1+a48c820f+BPSFWg9G6KPiO7QPryYO5Xq4oYJJ+kAvLKLSimDhoxMO",
]


def _go_signer() -> NoteSigner:
    return NoteSigner("PeterNeumann", SigningKey(base64.b64decode(GO_SKEY_MATERIAL)[1:]))


def test_go_reference_note_is_reproduced_byte_for_byte() -> None:
    signer = _go_signer()
    assert signer.verifier.to_vkey() == GO_VKEY
    assert sign_note(GO_TEXT, [signer]).format() == GO_NOTE
    note, keys = open_note(GO_NOTE, [parse_vkey(GO_VKEY)])
    assert note.text == GO_TEXT and [k.name for k in keys] == ["PeterNeumann"]


def test_tampered_go_note_is_rejected() -> None:
    with pytest.raises(ValidationError, match="does not verify"):
        open_note(GO_NOTE.replace("cryptography", "cryptographY"), [parse_vkey(GO_VKEY)])


def test_real_witness_cosignatures_verify() -> None:
    note = parse_note(REAL_CHECKPOINT)
    for vkey in REAL_WITNESSES:
        w = parse_vkey(vkey)
        stamps = [verify_cosignature(s, note.text, w) for s in note.signatures if s.matches(w)]
        assert stamps == [1779573024]
    clobbered = note.text.replace("1432088532", "42")
    w = parse_vkey(REAL_WITNESSES[0])
    assert all(verify_cosignature(s, clobbered, w) is None for s in note.signatures)


def test_vkey_manglings_rejected() -> None:
    assert parse_vkey(GO_VKEY).key_id.hex() == "c74f20a3"
    for bad in [
        GO_VKEY.replace("c74f20a3", "c74f20a4"),  # wrong key ID
        GO_VKEY.replace("PeterNeumann", "PeterNeuman"),  # ID no longer matches the name
        GO_VKEY[:-4],  # truncated key
        "PeterNeumann+c74f20a3",  # no key
        "PeterNeumann+zzzzzzzz+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a3+BRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # type 0x05
        42,
    ]:
        with pytest.raises(ValidationError):
            parse_vkey(bad)


def test_unknown_signatures_ignored_known_bad_signature_rejects() -> None:
    other = NoteSigner("other.example", key("other"))
    note = sign_note(GO_TEXT, [_go_signer(), other])
    # Only PeterNeumann is known: the other line is ignored.
    open_note(note.format(), [parse_vkey(GO_VKEY)])
    bad = NoteSignature("PeterNeumann", parse_vkey(GO_VKEY).key_id, b"\x00" * 64)
    with pytest.raises(ValidationError, match="does not verify"):
        open_note(Note(GO_TEXT, (bad, *note.signatures)).format(), [parse_vkey(GO_VKEY)])
    with pytest.raises(ValidationError, match="no signature from a known key"):
        open_note(sign_note(GO_TEXT, [other]).format(), [parse_vkey(GO_VKEY)])
    assert not verify_note_signature(sign_note(GO_TEXT, [other]), parse_vkey(GO_VKEY))


@pytest.mark.parametrize(
    "data",
    [
        "text\n— a AAAAAAA=\n",  # no blank line
        "text\n\n— a AAAAAAA=",  # no final newline
        "text\n\n- a AAAAAAA=\n",  # hyphen, not em dash
        "text\n\n— a !!!\n",  # not base64
        "text\n\n— a AAA=\n",  # shorter than a key ID
        "text\n\n— a+b AAAAAAA=\n",  # '+' in the name
        "te\x01xt\n\n— a AAAAAAA=\n",  # control character
        b"\xff\n\n",  # not UTF-8
        "text\n\n" + "— a AAAAAAA=\n" * 101,  # too many signatures
    ],
)
def test_malformed_notes_rejected(data: str | bytes) -> None:
    with pytest.raises(ValidationError):
        parse_note(data)


def test_note_text_may_contain_blank_lines() -> None:
    text = "line one\n\nline three\n"
    note = sign_note(text, [_go_signer()])
    assert parse_note(note.format()).text == text


def test_checkpoint_format_and_parse() -> None:
    cp = Checkpoint("example.com/log", 10, b"\x01" * 32, ("ext line",))
    assert (
        cp.text() == "example.com/log\n10\nAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=\next line\n"
    )
    assert parse_checkpoint(cp.text()) == cp
    for bad in [
        "o\n010\nAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=\n",
        "o\n1\nAQE=\n",
        "o\n1\n",
        "o\n-1\nAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=\n",
        "o\n1\nAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=",
        "\n1\nAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=\n",
    ]:
        with pytest.raises(ValidationError):
            parse_checkpoint(bad)


def test_open_checkpoint_checks_signature_and_origin() -> None:
    op = NoteSigner("example.com/log", key("op"))
    signed = sign_checkpoint(Checkpoint("example.com/log", 3, b"\x02" * 32), op)
    assert open_checkpoint(signed.text(), op.verifier) == signed
    with pytest.raises(ValidationError, match="origin"):
        open_checkpoint(signed.text(), op.verifier, "example.com/other")
    impostor = NoteSigner("example.com/log", key("impostor"))
    with pytest.raises(ValidationError):
        open_checkpoint(signed.text(), impostor.verifier)


def test_cosignature_binds_timestamp_and_body() -> None:
    w = Cosigner("witness.example", key("w"))
    body = Checkpoint("example.com/log", 3, b"\x02" * 32).text()
    sig = w.cosign(body, 1_700_000_000)
    assert len(sig.signature) == 72 and sig.signature[:8] == (1_700_000_000).to_bytes(8, "big")
    assert verify_cosignature(sig, body, w.verifier) == 1_700_000_000
    later = dataclasses.replace(
        sig, signature=(1_700_000_001).to_bytes(8, "big") + sig.signature[8:]
    )
    assert verify_cosignature(later, body, w.verifier) is None
    assert verify_cosignature(sig, body.replace("3", "4"), w.verifier) is None
    # A plain note key cannot be used as a cosigner key, nor the other way round.
    plain = NoteSigner("witness.example", key("w"))
    assert verify_cosignature(sig, body, plain.verifier) is None
    assert plain.verifier.key_id != w.verifier.key_id
    with pytest.raises(ValidationError):
        w.cosign(body, -1)
