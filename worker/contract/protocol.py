"""The JSON messages between bots and workers: ``PoemRequest`` in, ``PoemReply`` out.

Both sides import this module, so it must stay torch-free and depend on pydantic only.
Version 1 (``v=1``). Compatibility rules:

- adding an optional field keeps ``v``; unknown fields are ignored on read, so a newer bot can
  talk to an older worker during a rolling upgrade;
- renaming, removing or changing the meaning of a field bumps ``v``; a worker answers a request
  with a ``v`` it does not speak with a failed reply ``unsupported_version``.

``route`` is opaque to workers: bots put whatever they need to deliver the answer there
(``reply_to_message_id``, ``ack_message_id``, Discord interaction id/token, ...) and get it back
unchanged in the reply.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from poetcore.errors import PoetcoreInputError
from poetcore.prosody.forms import get_form
from poetcore.request import ComposeRequest, Poem, validate_prefix

PROTOCOL_VERSION = 1
ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"  # RQ job ids allow exactly these characters
PLATFORM_PATTERN = r"^[a-z0-9_-]{1,32}$"
MAX_ROUTE_BYTES = 4096

FAILURE_CODES = ("bad_request", "unsupported_version", "timeout", "worker_crashed", "internal", "cancelled")
"""Failures of the service itself. Words for them live in the bots' catalogue (`bots.core.messages`);
a failure with any other code is the engine rejecting the input (`PoetcoreInputError`), and its
own zh/en text travels with the reply, because only the engine knows what was wrong."""


def new_request_id() -> str:
    """A fresh request id (32 hex chars) for bots that have nothing better to use."""
    return uuid.uuid4().hex


def utc_now() -> datetime:
    return datetime.now(UTC)


class _Message(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    def to_json(self) -> str:
        return self.model_dump_json()

    @classmethod
    def from_json(cls, data: str | bytes) -> Any:
        return cls.model_validate_json(data)


class PoemOptions(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    traditional: bool = Field(default=False, description="answer in traditional characters")
    n: int | None = Field(default=None, ge=1, le=32, description="candidates sampled before reranking "
                          "(None: the model's own, from its generation_config.json)")
    seed: int | None = Field(default=None, ge=0, le=2**32 - 1)


class PoemRequest(_Message):
    """One user's ask for a poem, as a bot enqueues it."""

    v: int = PROTOCOL_VERSION
    request_id: str = Field(default_factory=new_request_id, pattern=ID_PATTERN)
    platform: str = Field(pattern=PLATFORM_PATTERN, description="telegram | discord | console | ...")
    chat_id: str = Field(min_length=1, max_length=128)
    user_id: str = Field(min_length=1, max_length=128)
    locale: str = Field(default="zh", max_length=16)
    kind: Literal["poem", "acrostic", "continue"] = "poem"
    topic: str = Field(default="", max_length=200)
    form: str = Field(default="七绝", min_length=1, max_length=16)
    heads: str | None = Field(default=None, max_length=16, description="藏头 characters for kind=acrostic")
    rhyme: str | None = Field(default=None, max_length=16, description="the rhyme as the user chose it: a 平水韵 group (东), a character (鸟), a 词林正韵 部 (7)")
    prefix: str | None = Field(default=None, max_length=64, description="续写: the user's lines, kept verbatim")
    options: PoemOptions = Field(default_factory=PoemOptions)
    created_at: datetime = Field(default_factory=utc_now)
    route: dict[str, Any] = Field(default_factory=dict)

    @field_validator("chat_id", "user_id", mode="before")
    @classmethod
    def _ids_as_text(cls, value: Any) -> Any:
        # Telegram ids are ints, Discord snowflakes overflow JS numbers: keep every id as text.
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    @field_validator("created_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        return value if value.tzinfo else value.replace(tzinfo=UTC)

    @field_validator("route")
    @classmethod
    def _small_json(cls, value: dict[str, Any]) -> dict[str, Any]:
        try:
            size = len(json.dumps(value, ensure_ascii=False).encode())
        except (TypeError, ValueError) as exc:
            raise ValueError(f"route must be JSON-serialisable: {exc}") from exc
        if size > MAX_ROUTE_BYTES:
            raise ValueError(f"route is {size} bytes of JSON; keep it under {MAX_ROUTE_BYTES}")
        return value

    def compose_request(self) -> ComposeRequest:
        """The engine's view of this request: what to write, without who asked or where to answer."""
        return ComposeRequest(
            topic=self.topic,
            form=self.form,
            heads=self.heads if self.kind == "acrostic" else None,
            rhyme=self.rhyme,
            prefix=self.prefix if self.kind == "continue" else None,
            n=self.options.n,
            seed=self.options.seed,
            traditional=self.options.traditional,
        )

    def poem_payload(self, poem: Poem) -> dict[str, Any]:
        """The poem as its reply carries it, with what the user's own 续写 lines break (judged here,
        where the engine runs, so the bot never checks them again)."""
        given = 0
        if self.kind == "continue":
            try:
                given = len(validate_prefix(self.prefix, get_form(poem.form)))
            except PoetcoreInputError:  # the composer took the lines, so this does not happen
                given = 0
        faults = [PrefixFault(message_zh=v.message, message_en=v.message_en) for v in poem.prefix_faults(given)]
        return {**poem.to_dict(), "prefix_faults": [f.model_dump() for f in faults]}

    @model_validator(mode="after")
    def _kind_needs(self) -> PoemRequest:
        if self.kind == "acrostic" and not self.heads:
            raise ValueError("kind='acrostic' needs heads (the characters that start each line)")
        if self.kind == "poem" and not self.topic.strip():
            raise ValueError("kind='poem' needs a topic")
        if self.kind == "continue" and not (self.prefix or "").strip():
            raise ValueError("kind='continue' needs a prefix (the lines to continue)")
        return self


class PrefixFault(BaseModel):
    """One 犯律 in the user's own 续写 lines, in the checker's words."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    message_zh: str
    message_en: str

    def message(self, locale: str | None) -> str:
        return PoetcoreInputError("prefix_fault", self.message_zh, self.message_en).message(locale)


class PoemPayload(BaseModel):
    """The poem as the engine wrote it: already in the script asked for (``traditional``)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    title: str = ""
    lines: list[str]
    form: str
    rhyme_group: str = ""
    text: str
    score: float | None = None
    traditional: bool = False
    prefix_faults: list[PrefixFault] = Field(default_factory=list)
    marks: str = Field(default="", description="a 词's punctuation after each line (empty: a 诗's ，。)")
    kind: str = "诗"


class ReplyError(BaseModel):
    """A failure code; the engine's own zh/en words only for input it rejected (see `FAILURE_CODES`)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    code: str
    message_zh: str | None = None
    message_en: str | None = None

    def engine_message(self, locale: str | None = None) -> str | None:
        """The engine's explanation in the requester's language, when the engine sent one (the other
        language when only that one came); the language is chosen by the engine's own rule."""
        first = self.message_zh or self.message_en
        if not first:
            return None
        return PoetcoreInputError(self.code, first, self.message_en).message(locale)


class Timings(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    queued_ms: float | None = Field(default=None, description="enqueued -> started on a worker")
    generate_ms: float | None = Field(default=None, description="time inside the composer")


class PoemReply(_Message):
    """What a worker publishes for one request: a poem, a failure, or a cancellation."""

    v: int = PROTOCOL_VERSION
    request_id: str = Field(pattern=ID_PATTERN)
    platform: str = Field(pattern=PLATFORM_PATTERN)
    chat_id: str
    user_id: str = ""
    locale: str = "zh"
    status: Literal["ok", "failed", "cancelled"]
    poem: PoemPayload | None = None
    error: ReplyError | None = None
    route: dict[str, Any] = Field(default_factory=dict)
    timings: Timings = Field(default_factory=Timings)
    request_created_at: datetime | None = None
    finished_at: datetime = Field(default_factory=utc_now)
    worker: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> PoemReply:
        if self.status == "ok" and self.poem is None:
            raise ValueError("status 'ok' needs a poem")
        if self.status != "ok" and self.error is None:
            raise ValueError(f"status {self.status!r} needs an error")
        return self

    @classmethod
    def _for(cls, request: PoemRequest | dict[str, Any], **fields: Any) -> PoemReply:
        src = request.model_dump(mode="json") if isinstance(request, PoemRequest) else request
        return cls(
            request_id=src["request_id"],
            platform=src["platform"],
            chat_id=str(src.get("chat_id", "")),
            user_id=str(src.get("user_id", "")),
            locale=src.get("locale") or "zh",
            route=src.get("route") or {},
            request_created_at=src.get("created_at"),
            **fields,
        )

    @classmethod
    def ok(cls, request: PoemRequest, poem: dict[str, Any], **fields: Any) -> PoemReply:
        return cls._for(request, status="ok", poem=PoemPayload.model_validate(poem), **fields)

    @classmethod
    def failure(cls, request: PoemRequest | dict[str, Any], code: str, **fields: Any) -> PoemReply:
        """A failure of the service (one of `FAILURE_CODES`); the bot words it."""
        if code not in FAILURE_CODES:
            raise ValueError(f"unknown failure code {code!r}; engine rejections use PoemReply.rejected")
        return cls._for(request, status="failed", error=ReplyError(code=code), **fields)

    @classmethod
    def rejected(cls, request: PoemRequest | dict[str, Any], exc: PoetcoreInputError, **fields: Any) -> PoemReply:
        """The engine refused the input; its own explanation goes to the user."""
        error = ReplyError(code=exc.code, message_zh=exc.message_zh, message_en=exc.message_en)
        return cls._for(request, status="failed", error=error, **fields)

    @classmethod
    def cancelled(cls, request: PoemRequest | dict[str, Any], **fields: Any) -> PoemReply:
        return cls._for(request, status="cancelled", error=ReplyError(code="cancelled"), **fields)

__all__ = [
    "FAILURE_CODES",
    "ID_PATTERN",
    "MAX_ROUTE_BYTES",
    "PROTOCOL_VERSION",
    "PoemOptions",
    "PoemPayload",
    "PoemReply",
    "PoemRequest",
    "PrefixFault",
    "ReplyError",
    "Timings",
    "new_request_id",
    "utc_now",
]
