"""Shared CLI plumbing: one error → exit-status mapping, date and money parsing, output."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from typing import Any, NoReturn, ParamSpec, TypeVar

import typer
from rich.console import Console

from xindai.kernel.dates import parse_date
from xindai.kernel.errors import ConflictError, DomainError, NotFoundError, ValidationError

console = Console()

__all__ = ["console", "emit_json", "handle_errors", "parse_date"]

P = ParamSpec("P")
R = TypeVar("R")


def handle_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn domain errors into a one-line reason on stderr and exit status 2 (conflicts too)."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except ValidationError as err:
            fail(f"error: {err.field}: {err.reason}")
        except (NotFoundError, ConflictError, DomainError) as err:
            fail(f"error: {err}")

    return wrapper


def fail(message: str) -> NoReturn:
    """One line on stderr (never wrapped: scripts parse it) and exit status 2."""
    sys.stderr.write(" ".join(message.split()) + "\n")
    raise typer.Exit(2)


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")
