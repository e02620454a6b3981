"""The line index: built from a small package in the real layout, then queried read-only."""

from __future__ import annotations

import json
import logging
import lzma
import random
import sqlite3
from pathlib import Path

import pytest

from poetcore.data.line_build import build_line_index
from poetcore.lines import LineIndex, open_line_index
from poetcore.lines.index import BUILTIN_INDEX, builtin_index_path
from poetcore.lines.schema import SCHEMA_VERSION
from poetcore.text.normalize import normalize_line

TANG = [
    {"author": "李白", "title": "靜夜思", "paragraphs": ["床前看月光，疑是地上霜。", "舉頭望山月，低頭思故鄉。"]},
    {"author": "王維", "title": "山居秋暝", "paragraphs": ["空山新雨後，天氣晚來秋。", "明月松間照，清泉石上流。"]},
    {"author": "佚名", "title": "殘句", "paragraphs": ["春眠不覺□，處處聞啼鳥。"]},
    {"author": "杜甫", "title": "秋雨歎", "paragraphs": ["闌風長雨（一作「東風細雨」）秋紛紛，四海八荒同一雲。"]},
    {"author": "無名氏", "title": "雜詩", "paragraphs": ["舉頭望明日，白雲滿故山。"]},
]
SONG = [
    {"author": "王安石", "title": "泊船瓜洲", "paragraphs": ["京口瓜洲一水間，鍾山祇隔數重山。",
                                                      "春風自綠江南岸，明月何時照我還。"]},
]
RANK = [{"author": "王維", "title": "山居秋暝", "baidu": 900000, "google": 800000, "bing": 700000, "so360": 50000,
         "bing_en": 1000}]
SANBAI = {"title": "唐詩三百首", "content": [{"type": "五言絕句", "content": [
    {"chapter": "靜夜思", "subchapter": None, "author": "李白",
     "paragraphs": ["床前明月光，疑是地上霜。", "舉頭望明月，低頭思故鄉。"]}]}]}
QIANJIA = {"title": "千家詩", "content": [{"type": "五言絕句", "content": [
    {"chapter": "春眠", "author": "（唐）孟浩然", "paragraphs": ["春眠不覺曉，處處聞啼鳥。", "夜來風雨聲，花落知多少。"]}]}]}
CI300 = [
    {"author": "苏轼", "rhythmic": "水调歌头", "paragraphs": ["明月几时有？把酒问青天。", "不知天上宫阙，今夕是何年。"]},
    {"author": "柳永", "rhythmic": "雨霖铃", "paragraphs": ["寒蝉凄切，对长亭晚，骤雨初歇。",
                                                   "今宵酒醒何处，杨柳岸、晓风残月。"]},
    {"author": "李清照", "rhythmic": "醉花阴", "paragraphs": ["薄雾浓云愁永昼，瑞脑消金兽。",
                                                    "东篱把洒黄昏后，有暗香盈袖。"]},
]
SHIJING = [{"title": "关雎", "chapter": "国风", "section": "周南", "content": ["关关雎鸠，在河之洲。窈窕淑女，君子好逑。"]}]
PROSE = [{"chapter": "学而篇", "paragraphs": ["子曰：学而时习之，不亦说乎？"]}]


def write_package(root: Path) -> Path:
    dist = root / "package" / "dist"
    files = {
        "quantangshi/poet.tang.0.json": TANG,
        "quantangshi/poet.song.0.json": SONG,
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
    assert report.poems == 12 and report.grams > report.lines > 30  # 论语 gave no poem
    assert report.collections["唐诗三百首"] == 1 and "论语" not in report.collections
    return LineIndex(report.path)


def _texts(index: LineIndex) -> list[str]:
    return [t for (t,) in sqlite3.connect(index.path).execute("SELECT text FROM lines ORDER BY id")]


def test_build_keeps_verse_drops_prose_notes_and_holes(index: LineIndex) -> None:
    texts = set(_texts(index))
    assert "学而时习之" not in texts and "子曰" not in texts  # 论语 is prose: not indexed
    assert "阑风长雨秋纷纷" in texts  # the editorial note is gone, the line kept
    assert not any("□" in t for t in texts) and "春眠不觉" not in texts  # a line with □ is dropped
    assert {"关关雎鸠", "窈窕淑女", "明月几时有", "把酒问青天", "不知天上宫阙"} <= texts
    assert len(texts) == len(_texts(index))  # one row per distinct line
    assert index.info.name == "full" and index.info.lines == len(texts)
    db = sqlite3.connect(index.path)
    assert dict(db.execute("SELECT key, value FROM meta"))["schema"] == SCHEMA_VERSION


def test_lookup_in_simplified_traditional_and_with_punctuation(index: LineIndex) -> None:
    for query in ("举头望明月", "舉頭望明月", "「舉頭望明月，」", " 举头 望明月！"):
        record = index.lookup(query)
        assert record is not None and record.text == "举头望明月", query
    assert index.lookup("举头望明星") is None and index.lookup("") is None and index.lookup("🌕🌕") is None
    assert normalize_line("羣山萬壑赴荊門") == "群山万壑赴荆门"


def test_a_line_keeps_its_anthology_source_and_its_place(index: LineIndex) -> None:
    record = index.lookup("床前明月光")
    assert record is not None
    assert (record.source, record.collection) == ("唐·李白《静夜思》", "唐诗三百首")
    assert index.next_line(record) == "疑是地上霜"
    shared = index.lookup("疑是地上霜")  # in both 静夜思: shown from the anthology, not the 全唐诗 copy
    assert shared is not None and shared.collection == "唐诗三百首"
    spring = index.lookup("春眠不觉晓")
    assert spring is not None and spring.source == "唐·孟浩然《春眠》"  # 千家诗's "（唐）" prefix parsed
    assert index.lookup("关关雎鸠").source == "先秦·佚名《诗经·周南·关雎》"  # type: ignore[union-attr]


def test_ids_run_in_line_fame_order(index: LineIndex) -> None:
    texts = _texts(index)
    # The school canon first (静夜思, 山居秋暝, 春晓, 水调歌头), the 全唐诗 nobody searches for last.
    canon = [texts.index(t) for t in ("床前明月光", "空山新雨后", "春眠不觉晓", "明月几时有", "关关雎鸠")]
    rest = [texts.index(t) for t in ("白云满故山", "阑风长雨秋纷纷", "四海八荒同一云")]
    assert max(canon) < min(rest)



def test_a_line_held_across_a_pause_is_one_line_and_its_parts_find_it(index: LineIndex) -> None:
    whole = index.lookup("杨柳岸，晓风残月")
    assert whole is not None and whole.text == "杨柳岸晓风残月" and whole.source == "宋·柳永《雨霖铃》"
    part = index.lookup("晓风残月")
    assert part is not None and part.text == "晓风残月" and part.poem_id == whole.poem_id
    assert index.poem_lines(whole.poem_id)[whole.index] == "杨柳岸晓风残月"  # the poem holds the whole line
    assert index.next_line(whole) is None and index.neighbour(whole, -1) == "今宵酒醒何处"


def test_reviewed_corrections_replace_slips_and_keep_other_readings(index: LineIndex) -> None:
    fixed = index.lookup("东篱把酒黄昏后")
    assert fixed is not None and fixed.source == "宋·李清照《醉花阴》"
    assert "东篱把洒黄昏后" not in _texts(index)  # the package's slip is gone …
    assert index.poem_lines(fixed.poem_id)[2] == "东篱把酒黄昏后"
    known, package = index.lookup("春风又绿江南岸"), index.lookup("春风自绿江南岸")  # … another edition stays
    assert known is not None and package is not None and known.poem_id == package.poem_id
    assert index.poem_lines(known.poem_id)[2] == "春风又绿江南岸"


def test_variant_characters_match_and_say_how_the_corpus_writes_it(index: LineIndex) -> None:
    match = index.match("钟山只隔数重山")  # the package writes 祇
    assert match is not None and match.kind == "variant" and match.differs
    assert match.record.text == "钟山祇隔数重山" and match.record.source == "宋·王安石《泊船瓜洲》"
    assert index.lookup("钟山只隔数重山") == match.record
    exact = index.match("钟山祇隔数重山")
    assert exact is not None and exact.kind == "exact" and not exact.differs


def test_a_one_character_slip_of_a_famous_line_is_taken_for_it(index: LineIndex) -> None:
    slip = index.match("东篱把洒黄昏后", containing="黄")
    assert slip is not None and (slip.kind, slip.record.text) == ("slip", "东篱把酒黄昏后") and slip.differs
    near = index.match("疑是地上雪", containing="地")
    assert near is not None and near.record.text == "疑是地上霜"
    assert index.match("疑是地上雪", containing="雪") is None  # the slip may not be where the 令字 is
    assert index.lookup("疑是地上雪") is None  # lookup never guesses
    # Not famous: 白云满故山 (a 全唐诗 poem with no rank) is only a near miss.
    assert index.info.famous_lines < index.info.lines
    assert index.match("白云满故乡") is None
    assert [r.text for r, _d in index.near_misses("白云满故乡")] == ["白云满故山"]


def test_lines_with_a_character_by_fame_and_position(index: LineIndex) -> None:
    moons = index.with_char("月", lengths=(), limit=20)
    assert {"床前明月光", "举头望明月", "明月松间照", "明月几时有"} <= {r.text for r in moons}
    assert [r.id for r in moons] == sorted(r.id for r in moons)  # most famous first
    second = [r.text for r in index.with_char("月", position=2, lengths=())]
    assert "明月松间照" in second and second == [r.text for r in moons if r.text[1] == "月"]
    assert [r.text for r in index.with_char("明月", position=1, lengths=())] == [
        r.text for r in moons if r.text.startswith("明月")]
    assert index.with_char("月", lengths=(7,)) == [r for r in moons if len(r.text) == 7]
    first = moons[0]
    assert first.id not in {r.id for r in index.with_char("月", lengths=(), exclude={first.id})}
    assert all(r.id <= 3 for r in index.with_char("月", lengths=(), max_rank=3))


def test_near_misses_are_real_lines_within_two_edits(index: LineIndex) -> None:
    [(real, distance)] = index.near_misses("举头望明星", containing="明", limit=1)
    assert (real.text, distance) == ("举头望明月", 1)  # and 举头望明日, less famous
    assert [r.text for r, _d in index.near_misses("举头望明星", containing="明")] == ["举头望明月", "举头望明日"]
    assert [r.text for r, _ in index.near_misses("床前明月亮光", containing="月")] == ["床前明月光", "床前看月光"]
    assert index.near_misses("举头望明星", containing="花") == []  # must hold the 令字
    assert index.near_misses("天地玄黄宇宙洪荒") == []


def test_puzzles_ask_within_a_couplet_from_the_pool(index: LineIndex) -> None:
    rng = random.Random(3)
    for offset in (1, -1):
        for _ in range(20):
            pair = index.puzzle_pair(rng, offset=offset)
            assert pair is not None
            record, wanted = pair
            assert record.index % 2 == (0 if offset == 1 else 1)  # a couplet's first line asks for its second
            assert index.neighbour(record, offset) == wanted and len(wanted) == len(record.text)
    top = index.random_line(random.Random(1), max_rank=2, lengths=(5,))
    assert top is not None and top.id <= 2
    seen = {index.random_line(random.Random(s), collections=frozenset({"千家诗"})) for s in range(10)}
    assert {r.collection for r in seen if r} == {"千家诗"}
    assert index.random_line(rng, max_rank=2, lengths=(5,), exclude={1, 2}) is None
    a, b = (index.random_line(random.Random(9), max_rank=50) for _ in range(2))
    assert a == b  # the caller's rng decides: a seeded game repeats


def test_a_missing_or_corrupt_index_falls_back_to_the_builtin_with_a_log_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "poetcore.lines.index")
    missing = open_line_index(tmp_path / "nope.sqlite")
    assert missing.info.name == "builtin" and builtin_index_path().name == BUILTIN_INDEX
    assert "poetcore data lines" in caplog.text
    corrupt = tmp_path / "bad.sqlite"
    corrupt.write_bytes(b"not a database at all" * 100)
    caplog.clear()
    fallback = open_line_index(corrupt)
    assert fallback.info.name == "builtin"
    assert "cannot read" in caplog.text and "poetcore data lines" in caplog.text


def test_a_compressed_index_is_unpacked_once_or_read_in_memory(
    index: LineIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    packed = tmp_path / "lines.sqlite.xz"
    packed.write_bytes(lzma.compress(Path(index.path).read_bytes()))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    first, again = LineIndex(packed), LineIndex(packed)
    assert first.path == again.path and first.path.parent == tmp_path / "cache" / "poetcore" / "lines"
    assert first.lookup("床前明月光") == index.lookup("床前明月光")
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the cache folder would be")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))
    in_memory = LineIndex(packed)
    assert in_memory.path == packed and in_memory.lookup("床前明月光") == index.lookup("床前明月光")
    with pytest.raises(sqlite3.OperationalError):
        in_memory._db.execute("CREATE TABLE x(y)")  # read-only all the same
