"""Typed settings from the environment (``XINDAI_*``). Read only by the composition root and entry points."""

from __future__ import annotations

import os
from dataclasses import dataclass

DEFAULT_DATABASE_URL = "sqlite:///var/xindai.db"


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    redis_url: str | None = None

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            database_url=os.environ.get("XINDAI_DATABASE_URL", DEFAULT_DATABASE_URL),
            redis_url=os.environ.get("XINDAI_REDIS_URL") or None,
        )
