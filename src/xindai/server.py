"""The site: the HTTP API and the borrower's web pages in one ASGI app (``xindai serve`` runs it).

This is the composition of the entry points — the API and the web pages never import each other.
"""

from __future__ import annotations

from fastapi import FastAPI

from xindai.api.app import create_app as create_api
from xindai.bootstrap import Platform
from xindai.web import pages


def create_app(platform: Platform | None = None) -> FastAPI:
    """The API (``/v1``, ``/docs``, ``/health``) with the web pages (``/web``, front door ``/``)."""
    app = create_api(platform)
    pages.mount(app)
    return app
