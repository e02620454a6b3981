"""The settings tree (poetcore.settings): every key known to some section, typos fail loudly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from support.workers import REPO_DIR

from bots.core.settings import BotSettings, DiscordSettings, load_bot_config
from poetcore.settings import (
    EngineSettings,
    UnknownSettingError,
    check_unknown_keys,
    env_names,
    load_engine_settings,
    registered_sections,
)
from worker.contract.settings import QueueSettings
from worker.settings import WorkerSettings


def test_every_component_registers_its_section() -> None:
    assert set(registered_sections()) >= {EngineSettings, QueueSettings, WorkerSettings, BotSettings, DiscordSettings}


def test_env_names_include_bare_aliases() -> None:
    assert {"REDIS_URL", "POETCORE_REDIS_URL", "POETCORE_QUEUE"} <= env_names(QueueSettings)
    assert {"TELEGRAM_TOKEN", "POETBOT_DEFAULT_FORM"} <= env_names(BotSettings)
    assert {"DISCORD_TOKEN", "DISCORD_PREFIX"} <= env_names(DiscordSettings)
    assert {"POETCORE_MODEL", "POETCORE_DEVICE", "POETCORE_LOCALE"} == env_names(EngineSettings)


@pytest.mark.parametrize(
    ("name", "suggestion"),
    [("POETCORE_MAX_BACH", "POETCORE_MAX_BATCH"), ("POETCORE_MODEL_PATH", "POETCORE_MODEL"),
     ("POETBOT_DISCORD_PREFIX", "DISCORD_PREFIX"), ("POETBOT_DEFALT_FORM", "POETBOT_DEFAULT_FORM")],
)
def test_unknown_variables_name_the_nearest_setting(name: str, suggestion: str) -> None:
    with pytest.raises(UnknownSettingError) as info:
        check_unknown_keys(None, {name: "4"})
    assert info.value.key == name and info.value.suggestion == suggestion
    assert f"did you mean {suggestion}?" in str(info.value)


def test_other_prefixes_in_the_environment_are_not_ours() -> None:
    check_unknown_keys(None, {"PATH": "/bin", "TELEGRAM_SOMETHING_ELSE": "x", "POETCORE_MAX_BATCH": "2"})


def test_every_key_of_the_env_file_must_be_known(tmp_path: Path) -> None:
    env = tmp_path / "poetcore.env"
    env.write_text("TELEGRAM_TOKEN=t\nREDIS_URL=redis://x:1/0\nPOETCORE_MAX_BATCH=2\n")
    check_unknown_keys(env, {})
    env.write_text("TELEGRAM_TOKEN=t\nTELEGRAM_TOKN=t\n")
    with pytest.raises(UnknownSettingError, match=r"TELEGRAM_TOKN in .*poetcore\.env; did you mean TELEGRAM_TOKEN"):
        check_unknown_keys(env, {})


def test_a_section_the_caller_names_counts_even_before_it_is_registered(tmp_path: Path) -> None:
    from pydantic_settings import BaseSettings, SettingsConfigDict

    class Extra(BaseSettings):
        model_config = SettingsConfigDict(env_prefix="POETBOT_")
        brand_new: int = 0

    check_unknown_keys(None, {"POETBOT_BRAND_NEW": "1"}, sections=(Extra,))


def test_engine_settings_and_bot_config_check_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POETCORE_MODEL", "/models/x")
    assert load_engine_settings().model == Path("/models/x")
    monkeypatch.setenv("POETBOT_MAX_TOPIK_CHARS", "3")
    with pytest.raises(UnknownSettingError, match="POETBOT_MAX_TOPIC_CHARS"):
        load_bot_config()


def _run(args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=REPO_DIR, capture_output=True, text=True, timeout=120,
        env={**os.environ, **env},
    )


@pytest.mark.parametrize(
    "args",
    [["poetcore.cli.main", "compose", "秋月"], ["worker", "--burst"], ["bots.cli", "serve"], ["bots.cli", "demo"]],
    ids=["poetcore compose", "poetbot worker", "poetbot serve", "poetbot demo"],
)
def test_entry_points_exit_2_naming_an_unknown_variable(args: list[str]) -> None:
    result = _run(args, POETCORE_MAX_BACH="4")
    assert result.returncode == 2, result.stderr
    assert "POETCORE_MAX_BACH" in result.stderr and "POETCORE_MAX_BATCH" in result.stderr
