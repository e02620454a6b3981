"""The JSON protocol between bots and workers (worker.protocol)."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from poetcore.errors import PoetcoreInputError
from worker.contract.protocol import FAILURE_CODES, MAX_ROUTE_BYTES, PoemReply, PoemRequest


def make_request(**overrides: object) -> PoemRequest:
    base: dict[str, object] = {"platform": "telegram", "chat_id": 42, "user_id": 7, "topic": "秋月"}
    base.update(overrides)
    return PoemRequest.model_validate(base)


def test_request_defaults_and_json_round_trip() -> None:
    req = make_request(route={"reply_to_message_id": 9})
    data = req.model_dump(mode="json")
    assert data["v"] == 1
    assert data["chat_id"] == "42" and data["user_id"] == "7"  # ids are text on the wire
    assert data["form"] == "七绝" and data["kind"] == "poem"
    assert data["options"] == {"traditional": False, "n": None, "seed": None}  # None: the model's own count
    assert data["created_at"].endswith("Z") or data["created_at"].endswith("+00:00")
    again = PoemRequest.model_validate(json.loads(json.dumps(data)))
    assert again == req
    assert len(req.request_id) == 32


def test_unknown_fields_are_ignored_for_rolling_upgrades() -> None:
    data = make_request().model_dump(mode="json") | {"added_in_a_later_minor": True}
    assert PoemRequest.model_validate(data).topic == "秋月"


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"kind": "acrostic", "heads": None}, "needs heads"),
        ({"topic": "  "}, "needs a topic"),
        ({"request_id": "has space"}, "request_id"),
        ({"platform": "Tele gram"}, "platform"),
        ({"options": {"n": 0}}, "options.n"),
        ({"kind": "limerick"}, "kind"),
    ],
)
def test_invalid_requests_name_the_problem(overrides: dict[str, object], fragment: str) -> None:
    with pytest.raises(ValidationError) as info:
        make_request(**overrides)
    assert fragment in str(info.value)


def test_acrostic_without_topic_is_fine() -> None:
    req = make_request(kind="acrostic", heads="春夏秋冬", topic="")
    assert req.heads == "春夏秋冬"


def test_route_must_be_small_json() -> None:
    with pytest.raises(ValidationError, match="under"):
        make_request(route={"blob": "x" * (MAX_ROUTE_BYTES + 1)})
    with pytest.raises(ValidationError, match="JSON"):
        make_request(route={"obj": object()})


def test_reply_ok_carries_route_and_locale() -> None:
    req = make_request(locale="en", route={"placeholder_id": 5})
    poem = {"title": "秋月", "lines": ["一二三四五六七"] * 4, "form": "七绝", "rhyme_group": "东",
            "text": "...", "score": -1.5, "extra": "ignored"}
    reply = PoemReply.ok(req, poem)
    assert reply.status == "ok" and reply.poem is not None and reply.poem.rhyme_group == "东"
    assert reply.route == {"placeholder_id": 5} and reply.locale == "en" and reply.chat_id == "42"
    assert reply.error is None
    assert PoemReply.from_json(reply.to_json()) == reply


def test_service_failures_carry_a_code_and_no_words() -> None:
    for code in FAILURE_CODES:
        reply = PoemReply.failure(make_request(), code)
        assert reply.error is not None and reply.error.code == code
        assert reply.error.message_zh is None and reply.error.engine_message("en") is None  # the bots word it
    with pytest.raises(ValueError, match="unknown failure code"):
        PoemReply.failure(make_request(), "unknown_form")


def test_engine_rejections_carry_the_engines_own_words() -> None:
    exc = PoetcoreInputError("unknown_form", "不支持的体裁：词", "Unsupported form: ci")
    reply = PoemReply.rejected(make_request(), exc)
    assert reply.status == "failed" and reply.error is not None and reply.error.code == "unknown_form"
    assert reply.error.engine_message("zh") == "不支持的体裁：词"
    assert reply.error.engine_message("en-US") == "Unsupported form: ci"
    assert PoemReply.from_json(reply.to_json()) == reply


def test_request_becomes_the_engines_compose_request() -> None:
    acrostic = make_request(kind="acrostic", heads="春夏秋冬", topic="", options={"n": 3, "seed": 7, "traditional": True})
    assert acrostic.compose_request().heads == "春夏秋冬" and acrostic.compose_request().n == 3
    poem = make_request(heads="春夏秋冬")  # heads only count for an acrostic
    assert poem.compose_request().heads is None and poem.compose_request().topic == poem.topic


def test_reply_status_must_match_payload() -> None:
    with pytest.raises(ValidationError, match="needs a poem"):
        PoemReply(request_id="a", platform="telegram", chat_id="1", status="ok")
    with pytest.raises(ValidationError, match="needs an error"):
        PoemReply(request_id="a", platform="telegram", chat_id="1", status="failed")


def test_cancelled_reply() -> None:
    reply = PoemReply.cancelled(make_request().model_dump(mode="json"))
    assert reply.status == "cancelled" and reply.error is not None and reply.error.code == "cancelled"
