"""The line index: built from a small package in the real layout, then queried read-only."""

from __future__ import annotations

import json
import logging
import sqlite3
from pathlib import Path

import pytest

from poetcore.data.line_build import build_line_index
from poetcore.lines import LineIndex, open_line_index
from poetcore.lines.index import builtin_index_path
from poetcore.text.normalize import normalize_line

TANG = [
    {"author": "李白", "title": "靜夜思", "paragraphs": ["床前明月光，疑是地上霜。", "舉頭望明月，低頭思故鄉。"]},
    {"author": "王維", "title": "山居秋暝", "paragraphs": ["空山新雨後，天氣晚來秋。", "明月松間照，清泉石上流。"]},
    {"author": "佚名", "title": "殘句", "paragraphs": ["春眠不覺□，處處聞啼鳥。"]},
    {"author": "杜甫", "title": "秋雨歎", "paragraphs": ["闌風長雨（一作「東風細雨」）秋紛紛，四海八荒同一雲。"]},
]
RANK = [{"author": "王維", "title": "山居秋暝", "baidu": 900000, "google": 800000, "bing": 700000, "so360": 50000}]
SANBAI = {"title": "唐詩三百首", "content": [{"type": "五言絕句", "content": [
    {"chapter": "靜夜思", "subchapter": None, "author": "李白",
     "paragraphs": ["床前明月光，疑是地上霜。", "舉頭望明月，低頭思故鄉。"]}]}]}
QIANJIA = {"title": "千家詩", "content": [{"type": "五言絕句", "content": [
    {"chapter": "春眠", "author": "（唐）孟浩然", "paragraphs": ["春眠不覺曉，處處聞啼鳥。", "夜來風雨聲，花落知多少。"]}]}]}
CI300 = [{"author": "苏轼", "rhythmic": "水调歌头", "paragraphs": ["明月几时有？把酒问青天。", "不知天上宫阙，今夕是何年。"]}]
SHIJING = [{"title": "关雎", "chapter": "国风", "section": "周南", "content": ["关关雎鸠，在河之洲。窈窕淑女，君子好逑。"]}]
PROSE = [{"chapter": "学而篇", "paragraphs": ["子曰：学而时习之，不亦说乎？"]}]


def write_package(root: Path) -> Path:
    dist = root / "package" / "dist"
    files = {
        "quantangshi/poet.tang.0.json": TANG,
        "rank/poet/poet.tang.rank.0.json": RANK,
        "mengxue/tangshisanbaishou.json": SANBAI,
        "mengxue/qianjiashi.json": QIANJIA,
        "songci/宋词三百首.json": CI300,
        "shijing/shijing.json": SHIJING,
        "lunyu/lunyu.json": PROSE,
    }
    for name, data in files.items():
        path = dist / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> LineIndex:
    root = write_package(tmp_path_factory.mktemp("pkg"))
    report = build_line_index(root, root / "lines.sqlite")
    assert report.poems == 8 and report.grams > report.lines > 20  # 论语 gave no poem
    assert report.collections["唐诗三百首"] == 1 and "论语" not in report.collections
    return LineIndex(report.path)


def test_build_keeps_verse_drops_prose_notes_and_holes(index: LineIndex) -> None:
    db = sqlite3.connect(index.path)
    texts = {t for (t,) in db.execute("SELECT text FROM lines")}
    assert "学而时习之" not in texts and "子曰" not in texts  # 论语 is prose: not indexed
    assert "阑风长雨秋纷纷" in texts  # the editorial note is gone, the line kept
    assert not any("□" in t for t in texts) and "春眠不觉" not in texts  # a line with □ is dropped
    assert {"关关雎鸠", "窈窕淑女", "明月几时有", "把酒问青天", "不知天上宫阙"} <= texts
    assert len(texts) == db.execute("SELECT COUNT(*) FROM lines").fetchone()[0]  # one row per distinct line
    assert index.info.name == "full" and index.info.lines == len(texts)


def test_lookup_in_simplified_traditional_and_with_punctuation(index: LineIndex) -> None:
    for query in ("举头望明月", "舉頭望明月", "「舉頭望明月，」", " 举头 望明月！"):
        record = index.lookup(query)
        assert record is not None and record.text == "举头望明月", query
    assert index.lookup("举头望明日") is None and index.lookup("") is None and index.lookup("🌕🌕") is None
    assert normalize_line("羣山萬壑赴荊門") == "群山万壑赴荆门"


def test_a_line_keeps_its_most_famous_source_and_its_place(index: LineIndex) -> None:
    record = index.lookup("床前明月光")
    assert record is not None
    assert (record.source, record.collection) == ("唐·李白《静夜思》", "唐诗三百首")  # not the 全唐诗 copy
    assert index.next_line(record) == "疑是地上霜"
    spring = index.lookup("春眠不觉晓")
    assert spring is not None and spring.source == "唐·孟浩然《春眠》"  # 千家诗's "（唐）" prefix parsed
    assert index.lookup("关关雎鸠").source == "先秦·佚名《诗经·周南·关雎》"  # type: ignore[union-attr]


def test_lines_with_a_character_by_fame_and_position(index: LineIndex) -> None:
    moons = index.with_char("月", lengths=(), limit=10)
    assert {r.text for r in moons} == {"床前明月光", "举头望明月", "明月松间照", "明月几时有"}
    assert [r.id for r in moons] == sorted(r.id for r in moons)  # most famous first
    second = [r.text for r in index.with_char("月", position=2, lengths=())]
    assert sorted(second) == ["明月几时有", "明月松间照"] and second == [r.text for r in moons if r.text[1] == "月"]
    assert [r.text for r in index.with_char("明月", position=1, lengths=())] == [
        r.text for r in moons if r.text.startswith("明月")]
    assert index.with_char("月", lengths=(7,)) == []
    first = moons[0]
    assert first.id not in {r.id for r in index.with_char("月", lengths=(), exclude={first.id})}


def test_near_misses_are_real_lines_within_two_edits(index: LineIndex) -> None:
    [(real, distance)] = index.near_misses("举头望明日", containing="明")
    assert (real.text, distance) == ("举头望明月", 1)
    assert [r.text for r, _ in index.near_misses("床前明月亮光", containing="月")] == ["床前明月光"]
    assert index.near_misses("举头望明日", containing="花") == []  # must hold the 令字
    assert index.near_misses("天地玄黄宇宙洪荒") == []


def test_a_missing_or_corrupt_index_falls_back_to_the_builtin_with_a_log_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "poetcore.lines.index")
    missing = open_line_index(tmp_path / "nope.sqlite")
    assert missing.info.name == "builtin" and missing.path == builtin_index_path()
    assert "poetcore data lines" in caplog.text
    corrupt = tmp_path / "bad.sqlite"
    corrupt.write_bytes(b"not a database at all" * 100)
    caplog.clear()
    fallback = open_line_index(corrupt)
    assert fallback.info.name == "builtin"
    assert "cannot read" in caplog.text and "poetcore data lines" in caplog.text


def test_the_builtin_index_ships_the_three_anthologies() -> None:
    builtin = LineIndex(builtin_index_path())
    assert builtin.info.name == "builtin" and builtin.info.lines > 8000
    record = builtin.lookup("舉頭望明月")
    assert record is not None and record.source == "唐·李白《静夜思》"
    assert builtin.lookup("明月几时有").source == "宋·苏轼《水调歌头》"  # type: ignore[union-attr]
