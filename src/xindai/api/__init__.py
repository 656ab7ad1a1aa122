"""HTTP API (FastAPI): app factory, routers per resource, one error → status mapping."""
