"""Queue settings from env and file (worker.settings); secrets stay out of logs."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from pydantic import ValidationError

from worker.settings import QueueSettings, load_settings, redact_url

SECRET = "s3cr3t-Pa55"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for var in ("REDIS_URL", "POETCORE_REDIS_URL", "POETCORE_ENV_FILE", "POETCORE_MAX_BATCH", "POETCORE_QUEUE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray ./poetcore.env


def test_defaults_use_embedded_redis() -> None:
    s = load_settings()
    assert s.redis_url is None and s.redis_url_value is None
    assert s.queue == "poems" and s.max_batch == 1


def test_bare_redis_url_and_prefixed_vars(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", f"rediss://default:{SECRET}@cache.example:6380/2")
    monkeypatch.setenv("POETCORE_MAX_BATCH", "4")
    s = load_settings()
    assert s.redis_url_value == f"rediss://default:{SECRET}@cache.example:6380/2"
    assert s.max_batch == 4


def test_env_file_then_overrides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = tmp_path / "poetcore.env"
    env.write_text("POETCORE_QUEUE=verse\nPOETCORE_USER_LIMIT=2\nPOETCORE_TELEGRAM_TOKEN=not-ours\n")
    s = load_settings()  # ./poetcore.env is picked up; keys of other components are ignored
    assert s.queue == "verse" and s.user_limit == 2
    assert load_settings(user_limit=9).user_limit == 9
    monkeypatch.setenv("POETCORE_ENV_FILE", str(tmp_path / "missing.env"))
    with pytest.raises(FileNotFoundError, match=r"missing\.env"):
        load_settings()


@pytest.mark.parametrize(
    ("field", "value", "fragment"),
    [
        ("redis_url", "http://localhost:6379", "redis://, rediss:// or unix://"),
        ("max_batch", 0, "max_batch"),
        ("liveness_ttl_s", 0.5, "must exceed heartbeat_interval_s"),
        ("retry_intervals_s", [-1], "retry intervals"),
        ("queue", "has space", "queue"),
    ],
)
def test_bad_values_say_what_to_fix(field: str, value: object, fragment: str) -> None:
    with pytest.raises(ValidationError) as info:
        QueueSettings(**{field: value})
    assert fragment in str(info.value)


def test_password_never_printed(caplog: pytest.LogCaptureFixture) -> None:
    s = QueueSettings(redis_url=f"redis://user:{SECRET}@db.internal:6379/0")
    caplog.set_level(logging.INFO)
    logging.getLogger("test").info("settings: %s / %r / %s", s, s, s.model_dump())
    for text in (repr(s), str(s), caplog.text, s.model_dump_json()):
        assert SECRET not in text
    assert "db.internal" in repr(s)
    assert s.redis_url_redacted == "redis://user:***@db.internal:6379/0"


def test_redact_url() -> None:
    assert redact_url(None) == "<embedded>"
    assert redact_url("redis://localhost:6379/0") == "redis://localhost:6379/0"
    assert redact_url(f"rediss://:{SECRET}@h:1") == "rediss://:***@h:1"
