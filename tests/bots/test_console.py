"""``poetbot demo`` through its stdin mode: real subprocess, embedded Redis, worker with the tiny model."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from support.settings import make_bot_settings, make_queue_settings

from bots.console import run_demo
from bots.core.messages import t

REPO = Path(__file__).resolve().parents[2]
POETBOT = Path(sys.executable).with_name("poetbot")
POEM_RE = re.compile(r"《(.+)》\n((?:.+\n){4})\n—— 七绝 · 平水韵(.)韵")


def demo(stdin: str, tmp_path: Path, *args: str, timeout: float = 280, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("POETCORE_", "POETBOT_", "TELEGRAM_", "DISCORD_")) and k != "REDIS_URL"}
    clean.update({"POETCORE_DATA_DIR": str(tmp_path / "data"), "POETBOT_CANDIDATES": "2", "OMP_NUM_THREADS": "1",
                  "POETBOT_DEMO_TIMEOUT_S": "240", **env})
    return subprocess.run([str(POETBOT), "demo", *args], input=stdin, capture_output=True, text=True,
                          cwd=tmp_path, env=clean, timeout=timeout)


def test_immediate_answers_without_a_worker(tmp_path: Path) -> None:
    result = demo("/forms\n/poem moon\n\n/check 白日依山尽，黄河入海流。欲穷千里目，更上一层楼。\n/queue\n", tmp_path,
                  "--no-worker", timeout=60)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "> /forms\n支持的诗体：" in out
    assert t("err_topic_latin", None, bad="moon") in out
    assert "✅ 合律：五绝" in out
    assert "你目前没有排队中的请求。队列中共有 0 个请求。" in out
    assert not (tmp_path / "data" / "demo-worker.log").exists()


def test_english_answers(tmp_path: Path) -> None:
    result = demo("/poem\n", tmp_path, "--no-worker", "--lang", "en", timeout=60)
    assert result.returncode == 0 and t("err_topic_missing", "en") in result.stdout


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_piped_poem_prints_one_qijue(tmp_path: Path, tiny_model_dir: Path) -> None:
    result = demo("/poem 秋月 七绝\n", tmp_path, POETCORE_MODEL=str(tiny_model_dir))
    assert result.returncode == 0, result.stderr + (tmp_path / "data" / "demo-worker.log").read_text()
    poems = POEM_RE.findall(result.stdout)
    assert len(poems) == 1, result.stdout
    title, body, _rhyme = poems[0]
    lines = body.splitlines()
    assert title == "秋月" and len(lines) == 4
    assert all(len(line) == 8 and line[-1] == ("，" if i % 2 == 0 else "。") for i, line in enumerate(lines)), lines
    assert "正在作诗《秋月》（七绝）… 排队第 1 位" in result.stdout
    # The demo stopped the embedded redis-server it started (the state file goes with it).
    assert (tmp_path / "data" / "redis" / "redis.conf").exists()
    assert not (tmp_path / "data" / "redis" / "server.json").exists()


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_broken_worker_is_reported_not_waited_for(tmp_path: Path) -> None:
    result = demo("/poem 秋月\n", tmp_path, POETCORE_MODEL=str(tmp_path / "no-such-model"))
    assert result.returncode == 1
    assert "the worker exited" in result.stderr and "no-such-model" in result.stderr


class Terminal(io.StringIO):
    """Typed input: a stdin that says it is a terminal."""

    def isatty(self) -> bool:
        return True


async def test_interactive_session_prints_banner_and_answers(redis_url: str) -> None:
    out = io.StringIO()
    code = await run_demo(make_bot_settings(), make_queue_settings(redis_url=redis_url),
                          stdin=Terminal("/forms\n\n排队\n/quit\n/help\n"), out=out, start_worker=False)
    assert code == 0
    text = out.getvalue()
    assert text.startswith("用法：")  # the banner is the help text
    assert "支持的诗体：" in text and "你目前没有排队中的请求" in text
    assert text.count("用法：") == 1  # nothing is read after /quit
