"""JSON-lines logging that carries the request id from bot to worker to reply.

Code sets the id once per unit of work with ``request_context(request_id)``; every log record
emitted inside it (ours, RQ's, poetcore's) gets a ``request_id`` field. Explicit
``extra={"request_id": ...}`` wins over the context.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("poetcore_request_id", default=None)

# LogRecord attributes that are not user "extra" fields.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName"}


@contextlib.contextmanager
def request_context(request_id: str | None) -> Iterator[None]:
    """Tag every log record inside the block with ``request_id``."""
    token = request_id_var.set(request_id)
    try:
        yield
    finally:
        request_id_var.reset(token)


class RequestIdFilter(logging.Filter):
    """Copies the context's request id onto records that do not carry one."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = request_id_var.get() or "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, msg, request_id and any ``extra`` fields."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and value not in (None, "-"):
                out[key] = value if isinstance(value, str | int | float | bool) else str(value)
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False)


def configure_logging(level: str = "INFO", fmt: str = "json", stream: Any = None) -> None:
    """Install our root handler (JSON or text), replacing one installed earlier; with a root
    handler present RQ does not add its own."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.set_name("poetcore")
    handler.addFilter(RequestIdFilter())
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        if old.get_name() == "poetcore":
            root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())

__all__ = [
    "JsonFormatter",
    "RequestIdFilter",
    "configure_logging",
    "request_context",
]
