"""The demo identity and CSRF protection of the borrower's forms; form bodies parsed safely.

There is no login system yet. A visitor gets a **demo identity**: a synthetic borrower reference
(``demo-web-<hex>``) and a synthetic credit profile (good / grey / bad bureau features from the
bundled public German-credit data), kept in a cookie signed with HMAC-SHA-256 (standard library).
Pages label it clearly as synthetic; a real deployment replaces it with authentication.

Every POST form carries a CSRF token: HMAC of the identity's reference under the same secret (a
*signed* token: a cross-site page cannot read it, and it is worthless for another identity). A POST
without a valid identity cookie and a matching token is refused with 403 before anything runs.

The secret is ``XINDAI_WEB_SECRET`` when set, else random per process (cookies then last until a
restart, and several worker processes would not share it: set the variable for those).

Invariants: a cookie or token whose MAC does not verify is ignored (a new identity is issued, a
POST is refused); comparisons are constant-time; form bodies are URL-encoded, at most 64 KiB and
200 fields.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import parse_qs

from fastapi import Depends, Request, Response

COOKIE = "xindai_demo"
PROFILES = ("good", "grey", "bad")
MAX_FORM_BYTES = 64 * 1024
MAX_FORM_FIELDS = 200


class Forbidden(Exception):
    """A POST without a valid demo identity and CSRF token (rendered as 403)."""


class BadForm(Exception):
    """A body that is not a URL-encoded form within the limits (rendered as 400)."""


@dataclass(frozen=True, slots=True)
class DemoIdentity:
    subject: str
    profile: str = "good"

    @classmethod
    def new(cls, profile: str = "good") -> DemoIdentity:
        return cls(f"demo-web-{secrets.token_hex(5)}", profile)


def make_secret() -> bytes:
    configured = os.environ.get("XINDAI_WEB_SECRET")
    return configured.encode("utf-8") if configured else secrets.token_bytes(32)


def _secret(request: Request) -> bytes:
    secret: bytes = request.app.state.web_secret
    return secret


def _mac(secret: bytes, purpose: str, value: str) -> str:
    return hmac.new(secret, f"{purpose}\n{value}".encode(), hashlib.sha256).hexdigest()


def _encode(secret: bytes, ident: DemoIdentity) -> str:
    payload = base64.urlsafe_b64encode(
        json.dumps({"sub": ident.subject, "profile": ident.profile}).encode("utf-8")
    ).decode("ascii")
    return f"{payload}.{_mac(secret, 'identity', payload)}"


def _decode(secret: bytes, value: str) -> DemoIdentity | None:
    payload, _, mac = value.partition(".")
    if not mac or not hmac.compare_digest(mac, _mac(secret, "identity", payload)):
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(payload.encode("ascii")))
        subject, profile = str(data["sub"]), str(data["profile"])
    except (ValueError, KeyError, TypeError):
        return None
    return DemoIdentity(subject, profile if profile in PROFILES else "good")


def identity_of(request: Request) -> DemoIdentity | None:
    """The visitor's demo identity, if the cookie carries a valid one."""
    value = request.cookies.get(COOKIE)
    return _decode(_secret(request), value) if value else None


def current_identity(request: Request) -> tuple[DemoIdentity, bool]:
    """The visitor's identity, or a new one (``True``: the caller must ``remember`` it)."""
    ident = identity_of(request)
    return (ident, False) if ident else (DemoIdentity.new(), True)


def remember(request: Request, response: Response, ident: DemoIdentity) -> Response:
    """Set the signed identity cookie on ``response``."""
    response.set_cookie(
        COOKIE,
        _encode(_secret(request), ident),
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
        max_age=30 * 24 * 3600,
    )
    return response


def csrf_token(request: Request, ident: DemoIdentity) -> str:
    """The token every form of ``ident`` carries (``csrf_token`` hidden field)."""
    return _mac(_secret(request), "csrf", ident.subject)


Form = dict[str, list[str]]


async def read_form(request: Request) -> Form:
    """The URL-encoded body as lists of values (standard library; no multipart)."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        raise BadForm("expected an application/x-www-form-urlencoded form")
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise BadForm("the form is too large")
    try:
        text = body.decode("utf-8")
        return parse_qs(text, keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS)
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadForm(str(exc)) from None


async def checked_form(request: Request) -> tuple[DemoIdentity, Form]:
    """The form of a POST by a known identity with its valid CSRF token; else ``Forbidden``."""
    ident = identity_of(request)
    form = await read_form(request)
    token = (form.get("csrf_token") or [""])[0]
    if ident is None or not hmac.compare_digest(token, csrf_token(request, ident)):
        raise Forbidden("missing or invalid CSRF token")
    return ident, form


def first(form: Form, key: str) -> str:
    """A single field's value, stripped ("" when absent)."""
    values = form.get(key) or [""]
    return values[0].strip()


#: a route parameter: the checked form (an async dependency reads the body, so the route itself
#: can be a plain function that FastAPI runs in its thread pool, off the event loop)
Checked = Annotated[tuple[DemoIdentity, Form], Depends(checked_form)]
