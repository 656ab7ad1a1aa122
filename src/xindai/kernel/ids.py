"""Entity identifiers.

Every entity has a UUID (as a lowercase string, so it is portable across SQLite and PostgreSQL and
JSON). Human-facing numbers (a loan number) are separate and assigned by the store.
"""

import uuid


def new_id() -> str:
    """Return a fresh random UUID4 as a 36-character string."""
    return str(uuid.uuid4())
