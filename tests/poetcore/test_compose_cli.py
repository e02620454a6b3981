"""`poetcore compose` end to end on the tiny model: output, options, and every error (exit 2)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from poetcore.cli.main import app
from poetcore.compose import Composer
from poetcore.prosody.checker import check
from poetcore.request import MAX_TOPIC_CHARS
from poetcore.text.chars import to_traditional

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module", autouse=True)
def load_once() -> Iterator[None]:
    """Each CLI call loads the model; share one real Composer per (path, device) across calls.

    Loading is covered by the first call of each path; repeating it for every error case would
    only add seconds. A failed load (missing directory) is not cached and still runs for real.
    """
    real = Composer.from_pretrained.__func__  # type: ignore[attr-defined]
    loaded: dict[tuple[str, str | None], Composer] = {}

    def from_pretrained(cls: type[Composer], path: str | Path | None = None, device: str | None = None) -> Composer:
        key = (str(path), device)
        if key not in loaded:
            loaded[key] = real(cls, path, device)
        return loaded[key]

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Composer, "from_pretrained", classmethod(from_pretrained))
        yield


@pytest.fixture(scope="module")
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture(scope="module")
def compose(runner: CliRunner, tiny_model_dir: Path):
    def run(*args: str) -> Result:
        return runner.invoke(app, ["compose", *args, "--model", str(tiny_model_dir), "--device", "cpu"])

    return run


def poems(result: Result) -> list[dict]:
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def flat(text: str) -> str:
    """Rich wraps long messages at the terminal width; compare without whitespace."""
    return "".join(text.split())


def test_json_poem_passes_poetcore_check(compose, runner: CliRunner) -> None:
    [poem] = poems(compose("秋月", "五律", "--seed", "4", "-n", "2", "--json"))
    assert {"form", "lines", "text", "rhyme_group", "title", "score"} <= set(poem)
    assert poem["form"] == "五律" and poem["title"] == "秋月" and len(poem["lines"]) == 8
    assert isinstance(poem["score"], float)
    checked = runner.invoke(app, ["check", "--json", "--form", poem["form"], poem["text"]])
    assert checked.exit_code == 0, checked.output
    report = json.loads(checked.stdout)
    assert report["ok"] and report["rhyme_group"] == poem["rhyme_group"]
    # The same text piped in without --form: the checker finds the shape itself.
    piped = runner.invoke(app, ["check", "--json"], input=poem["text"])
    assert piped.exit_code == 0 and json.loads(piped.stdout)["form"] == "五律"


def test_plain_output_is_titled_poem(compose) -> None:
    plain = compose("秋月", "七绝", "--seed", "8", "-n", "1")
    [poem] = poems(compose("秋月", "七绝", "--seed", "8", "-n", "1", "--json"))
    assert plain.exit_code == 0, plain.output
    lines = plain.stdout.strip().splitlines()
    assert lines[0].split() == ["《秋月》", "七绝", "·", f"{poem['rhyme_group']}韵"]
    assert lines[1:] == [line + "，。"[i % 2] for i, line in enumerate(poem["lines"])]


def test_seed_reproduces_count_continues(compose) -> None:
    first = poems(compose("边塞", "五绝", "--seed", "10", "--count", "3", "-n", "1", "--json"))
    again = poems(compose("边塞", "五绝", "--seed", "10", "-n", "1", "--json"))
    assert [p["seed"] for p in first] == [10, 11, 12]
    assert again[0]["text"] == first[0]["text"]
    assert len({p["text"] for p in first}) == 3


def test_traditional(compose, runner: CliRunner) -> None:
    [simple] = poems(compose("秋风", "七绝", "--seed", "3", "-n", "4", "--json"))
    [trad] = poems(compose("秋风", "七绝", "--seed", "3", "-n", "4", "--json", "--traditional"))
    assert trad["traditional"] is True and trad["title"] == "秋風"
    assert trad["lines"] == [to_traditional(line) for line in simple["lines"]] != simple["lines"]
    checked = runner.invoke(app, ["check", "--json", "--form", "七绝", trad["text"]])
    assert checked.exit_code == 0, checked.output


def test_acrostic_and_heads(compose) -> None:
    [acro] = poems(compose("春 夏 秋 冬", "七绝", "--acrostic", "--seed", "1", "-n", "1", "--json"))
    assert [line[0] for line in acro["lines"]] == list("春夏秋冬") and acro["title"] == "藏头·春夏秋冬"
    [heads] = poems(compose("秋月", "五绝", "--heads", "山水云天", "--rhyme", "一东", "--seed", "1", "-n", "1", "--json"))
    assert [line[0] for line in heads["lines"]] == list("山水云天")
    assert heads["title"] == "秋月" and heads["rhyme_group"] == "东"


def test_prefix_is_kept_and_the_form_word_may_come_first(compose) -> None:
    [poem] = poems(compose("五绝", "--prefix", "白日依山盡", "--seed", "1", "-n", "1", "--json"))
    assert poem["form"] == "五绝" and poem["lines"][0] == "白日依山尽" and poem["title"] == "续·白日依山尽"
    assert check("，".join(poem["lines"]), "五绝").ok


def test_a_prefix_that_breaks_the_chart_is_continued_and_the_fault_named(compose) -> None:
    # 疑是地上霜 is no 律句 (是 or 上 is 仄 where the chart wants 平) and ends in 平: a 平韵 五绝 goes on.
    # (A lone line ending in 仄 that fits the 仄韵 chart better, 举头望明月 or 千山鸟飞绝, opens a 仄韵 绝句.)
    result = compose("五绝", "--prefix", "疑是地上霜", "--seed", "1", "-n", "1", "--json")
    [poem] = poems(result)
    assert poem["lines"][0] == "疑是地上霜" and poem["form"] == "五绝"
    assert "注意 / note: 第一句第" in result.output, result.output  # the user's fault, in the checker's words
    faults = check("，".join(poem["lines"]), "五绝").violations
    assert faults and all(v.line == 0 for v in faults)  # the rest of the poem is regular


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["秋月", "八绝"], "支持的体裁：五绝、七绝、五律、七律"),
        ([""], "请给出诗的题目"),
        (["月" * (MAX_TOPIC_CHARS + 1)], f"最多{MAX_TOPIC_CHARS}个汉字"),
        (["autumn moon"], "没有汉字"),
        (["🌙🍂"], "没有汉字"),
        (["秋月", "--heads", "春夏秋"], "藏头字需要4个，你给了3个"),
        (["春夏秋", "--acrostic"], "藏头字需要4个，你给了3个"),
        (["秋月", "--heads", "ab秋冬"], "藏头字必须是汉字"),
        (["秋月", "--rhyme", "xyz"], "不是平水韵的韵部，也不是一个字"),
        (["秋月", "七律", "--rhyme", "屋"], "仄韵只写绝句"),
        (["秋月", "--repeat", "twice"], "--repeat must be none, dieci or any"),
        (["春夏秋冬", "--acrostic", "--heads", "春夏秋冬"], "either --acrostic"),
        (["秋月", "-n", "0"], "候选数 n 须在 1 到 64 之间"),
        (["秋月", "--count", "0"], "--count must be at least 1"),
        (["五绝", "--prefix", "白日依山"], "第1句“白日依山”有4字"),
        (["五绝", "--prefix", "白日依山尽，黄河入海流，欲穷千里目，更上一层楼"], "没有可续的了"),
        (["五绝", "--prefix", "白日依山尽", "--heads", "春夏秋冬"], "either --prefix"),
    ],
    ids=[
        "unknown-form", "empty-topic", "long-topic", "latin-topic", "emoji-topic", "heads-count",
        "acrostic-count", "latin-heads", "unknown-rhyme", "ze-rhyme", "bad-repeat", "acrostic-and-heads",
        "zero-n", "zero-count", "prefix-length", "prefix-full", "prefix-and-heads",
    ],
)
def test_bad_input_exits_2_with_a_message(compose, args: list[str], says: str) -> None:
    result = compose(*args, "--json")
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)  # a message, not a traceback
    assert flat(says) in flat(result.output), result.output
    assert "错误" in result.output and result.stdout.strip() == ""


def test_missing_model_dir_exits_2(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["compose", "秋月", "--model", str(tmp_path / "none")])
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit)
    assert flat("config.json missing") in flat(result.output) and "--model" in result.output
