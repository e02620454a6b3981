"""Queue settings from env and file (worker.contract.settings, loaded through the worker's tree);
secrets stay out of logs."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from pydantic import ValidationError

from poetcore.settings import UnknownSettingError
from worker.contract.settings import QueueSettings, redact_url
from worker.settings import WorkerSettings, load_worker_config

SECRET = "s3cr3t-Pa55"


@pytest.fixture(autouse=True)
def _no_env_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("POETCORE_ENV_FILE", raising=False)
    monkeypatch.chdir(tmp_path)  # ./poetcore.env is this test's own


def test_defaults_use_embedded_redis() -> None:
    config = load_worker_config()
    assert config.queue.redis_url is None and config.queue.redis_url_value is None
    assert config.queue.queue == "poems" and config.worker.max_batch == 8 and config.engine.model is None


def test_bare_redis_url_and_prefixed_vars(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", f"rediss://default:{SECRET}@cache.example:6380/2")
    monkeypatch.setenv("POETCORE_MAX_BATCH", "4")
    config = load_worker_config()
    assert config.queue.redis_url_value == f"rediss://default:{SECRET}@cache.example:6380/2"
    assert config.worker.max_batch == 4


def test_env_file_then_overrides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = tmp_path / "poetcore.env"
    env.write_text("POETCORE_QUEUE=verse\nPOETCORE_USER_LIMIT=2\nTELEGRAM_TOKEN=the-bots-own\n")
    config = load_worker_config()  # ./poetcore.env is picked up; other components' keys are known, not ours
    assert config.queue.queue == "verse" and config.queue.user_limit == 2
    assert load_worker_config(queue={"user_limit": 9}).queue.user_limit == 9
    monkeypatch.setenv("POETCORE_ENV_FILE", str(tmp_path / "missing.env"))
    with pytest.raises(FileNotFoundError, match=r"missing\.env"):
        load_worker_config()


def test_a_typo_in_the_env_file_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "poetcore.env").write_text("POETCORE_QUEUE=verse\nPOETCORE_TELEGRAM_TOKEN=not-a-setting\n")
    with pytest.raises(UnknownSettingError, match="POETCORE_TELEGRAM_TOKEN") as info:
        load_worker_config()
    assert "poetcore.env" in str(info.value)


def test_worker_knobs_are_validated() -> None:
    with pytest.raises(ValidationError, match="max_batch"):
        WorkerSettings(_env_file=None, max_batch=0)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("field", "value", "fragment"),
    [
        ("redis_url", "http://localhost:6379", "redis://, rediss:// or unix://"),
        ("user_limit", -1, "user_limit"),
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
