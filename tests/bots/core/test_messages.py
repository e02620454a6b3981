"""The message catalogue: both languages everywhere, same placeholders, no dead or missing keys."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from bots.core.chat import MENU
from bots.core.messages import CATALOGUE, lang, t

BOTS = Path(__file__).resolve().parents[3] / "bots"
HAN = re.compile(r"[\u4e00-\u9fff]")


def fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.mark.parametrize("key", sorted(CATALOGUE))
def test_every_key_has_zh_and_en_with_the_same_placeholders(key: str) -> None:
    entry = CATALOGUE[key]
    assert set(entry) == {"zh", "en"}, key
    assert entry["zh"].strip() and entry["en"].strip()
    assert fields(entry["zh"]) == fields(entry["en"]), key


@pytest.mark.parametrize("key", sorted(k for k in CATALOGUE if k != "poem_untitled"))
def test_chinese_text_is_chinese_and_english_text_is_english(key: str) -> None:
    zh, en = (re.sub(r"\{[^}]*\}", "", CATALOGUE[key][lg]) for lg in ("zh", "en"))
    wordy = re.compile(r"[A-Za-z\u4e00-\u9fff]")
    assert HAN.search(zh) or not wordy.search(zh), key
    # English text may quote Chinese examples, but needs English words around them.
    assert re.search(r"[A-Za-z]{3,}", en) or not wordy.search(en), key


def _source_text() -> str:
    return "\n".join(p.read_text() for p in BOTS.rglob("*.py") if p.name != "messages.py")


def test_every_key_used_in_code_exists() -> None:
    used = set(re.findall(r"""\bt\(\s*["']([a-z_]+)["']""", _source_text()))
    used |= set(re.findall(r"""CommandError\(\s*["']([a-z_]+)["']""", _source_text()))
    assert used, "the scan found no message keys: the pattern is broken"
    assert used - CATALOGUE.keys() == set()


def test_no_dead_keys() -> None:
    source = _source_text()
    menu_keys = {f"cmd_{name}" for name in MENU}
    dead = [k for k in CATALOGUE if k not in menu_keys and f'"{k}"' not in source]
    assert dead == []


@pytest.mark.parametrize(
    ("locale", "expected"),
    [(None, "zh"), ("", "zh"), ("zh", "zh"), ("zh-hans", "zh"), ("ja", "zh"), ("en", "en"), ("en-US", "en"), ("EN-gb", "en")],
)
def test_language_choice(locale: str | None, expected: str) -> None:
    assert lang(locale) == expected


def test_formatting_fills_placeholders() -> None:
    assert t("rate_limited", None, seconds=7) == "请求太频繁了，请 7 秒后再试。"
    assert "7 s" in t("rate_limited", "en", seconds=7)
