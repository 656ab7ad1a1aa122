"""The staff console (``/web/ops``), kept apart from the borrower's pages: the human-review queue.

Analysts see each open review (a referral, or a borrower refusing an automated decision), with the
automated decision's reasons, and approve or decline it with a note — through the same use case as
``POST /v1/reviews/{id}``: an approval makes the offer, a decline's note is the reason the borrower
reads. Forms are CSRF-checked like every form; a missing analyst name, or a decline without a note,
re-renders the queue naming the field (422) and changes nothing.

There is no staff login yet (demo): a deployment must put ``/web/ops`` behind authentication.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from xindai.app import origination as orig
from xindai.kernel.errors import ValidationError
from xindai.web import i18n
from xindai.web.journey import guarded
from xindai.web.render import Lang, platform_of, render
from xindai.web.security import Checked, csrf_token, current_identity, first, remember

router = APIRouter(prefix="/web/ops", include_in_schema=False)
FIELDS = ("analyst", "resolution", "note")


def _queue(request: Request, lang: str, status: int = 200, **context: object) -> Response:
    ident, new = current_identity(request)
    o = platform_of(request).origination()
    response = render(
        request,
        "ops.html",
        lang,
        status=status,
        csrf=csrf_token(request, ident),
        open_items=orig.list_reviews(o, "open"),
        done_items=[r for r in orig.list_reviews(o, None) if r["status"] != "open"][-20:],
        **{"error": None, "form": {}, **context},
    )
    return remember(request, response, ident) if new else response


@router.get("", response_class=HTMLResponse)
def queue(request: Request, lang: Lang = None) -> Response:
    return _queue(request, i18n.pick_lang(lang))


@router.post("/reviews/{review_id}", response_class=HTMLResponse)
def resolve(request: Request, review_id: str, checked: Checked) -> Response:
    _, form = checked
    lng = i18n.pick_lang(first(form, "lang"))
    given = {k: first(form, k) for k in FIELDS}
    try:
        guarded(
            lambda: orig.resolve_review(
                platform_of(request).origination(),
                review_id,
                analyst=given["analyst"],
                resolution=given["resolution"],
                note=given["note"],
            )
        )
    except ValidationError as exc:
        field = exc.field if exc.field in FIELDS else "resolution"
        error = {
            "review": review_id,
            "field": field,
            "label": i18n.TEXTS[f"f_{field}"][lng],
            "reason": exc.reason,
        }
        return _queue(request, lng, status=422, error=error, form=given)
    return RedirectResponse(f"/web/ops?lang={lng}", status_code=303)
