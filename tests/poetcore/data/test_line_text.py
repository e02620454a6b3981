"""How the package's text becomes the index's lines: 、 inside a 词 line, the reviewed corrections,
the primers' quotations, and the variant characters lines are matched up to."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from poetcore.data.line_sources import (
    CORRECTIONS_PATH,
    iter_source_poems,
    load_corrections,
    primer_lines,
    split_lines,
)
from poetcore.text.normalize import normalize_line
from poetcore.text.variants import LOOSE_VARIANTS, VARIANTS, loose_key


def test_a_pause_inside_a_line_keeps_it_whole_and_its_long_parts_find_it() -> None:
    lines, aliases = split_lines(["今宵酒醒何处，杨柳岸、晓风残月。", "念去去、千里烟波，暮霭沉沉楚天阔。"])
    assert lines == ("今宵酒醒何处", "杨柳岸晓风残月", "念去去千里烟波", "暮霭沉沉楚天阔")
    assert aliases == (("晓风残月", 1), ("千里烟波", 2))  # 杨柳岸 and 念去去 are too short to be lines
    # A list joined by 、 that would make one over-long line stays apart, as before.
    lines, aliases = split_lines(["春兰秋菊、夏荷冬梅、杨柳芙蓉、松竹桃李，四时花木各有时。"])
    assert lines == ("春兰秋菊", "夏荷冬梅", "杨柳芙蓉", "松竹桃李", "四时花木各有时") and aliases == ()
    assert split_lines(["春兰、夏荷、秋菊、冬梅。"]) == (("春兰夏荷秋菊冬梅",), ())  # short enough: one line


def test_the_shipped_corrections_are_reviewed_rows_of_one_form() -> None:
    fixes = load_corrections()
    assert len(fixes) >= 5 and {f.kind for f in fixes.values()} == {"slip", "reading"}
    for (author, corpus), fix in fixes.items():
        assert fix.author == author and fix.corpus == corpus and fix.why
        assert sum(a != b for a, b in zip(fix.corpus, fix.line, strict=True)) >= 1
    assert fixes[("李清照", "东篱把洒黄昏后")].line == "东篱把酒黄昏后"
    assert CORRECTIONS_PATH.read_text(encoding="utf-8").startswith("#")


@pytest.mark.parametrize("row", [
    "李清照\t醉花阴\t东篱把洒黄昏后\t东篱把酒黄昏后\tslip",  # no reason given
    "李清照\t醉花阴\t东篱把洒黄昏后\t东篱把酒黄昏\tslip\twhy",  # lengths differ
    "李清照\t醉花阴\t东篱把洒黄昏后\t东篱把酒黄昏后\tguess\twhy",  # not a kind
    "李清照\t醉花阴\t東籬把灑黃昏後\t东篱把酒黄昏后\tslip\twhy",  # not normalised
])
def test_a_bad_correction_is_refused_with_its_line_number(tmp_path: Path, row: str) -> None:
    path = tmp_path / "corrections.tsv"
    path.write_text(f"# header\n{row}\n", encoding="utf-8")
    with pytest.raises(ValueError, match=":2:"):
        load_corrections(path)


def test_corrections_apply_by_author_and_line_in_every_collection(tmp_path: Path) -> None:
    songci = tmp_path / "package" / "dist" / "songci"
    songci.mkdir(parents=True)
    ci = [{"author": "李清照", "rhythmic": "醉花阴", "paragraphs": ["东篱把洒黄昏后，有暗香盈袖。"]},
          {"author": "某人", "rhythmic": "醉花阴", "paragraphs": ["东篱把洒黄昏后，有暗香盈袖。"]}]
    for name in ("宋词三百首.json", "ci.song.0.json"):
        (songci / name).write_text(json.dumps(ci, ensure_ascii=False), encoding="utf-8")
    poems = list(iter_source_poems(tmp_path))
    assert [(p.author, p.lines[0]) for p in poems] == [("李清照", "东篱把酒黄昏后"), ("某人", "东篱把洒黄昏后")] * 2
    assert all(p.aliases == () for p in poems)  # a slip is gone, not kept as another reading
    untouched = list(iter_source_poems(tmp_path, corrections={}))
    assert {p.lines[0] for p in untouched} == {"东篱把洒黄昏后"}


def test_primers_give_the_verse_they_quote(tmp_path: Path) -> None:
    mengxue = tmp_path / "package" / "dist" / "mengxue"
    mengxue.mkdir(parents=True)
    zeng = {"title": "增廣賢文", "content": [{"chapter": "上集", "paragraphs": ["近水樓臺先得月，向陽花木易爲春。"]}]}
    (mengxue / "zengguangxianwen.json").write_text(json.dumps(zeng, ensure_ascii=False), encoding="utf-8")
    (mengxue / "dizigui.json").write_text(json.dumps({"paragraphs": ["弟子規，聖人訓。"]}), encoding="utf-8")
    assert primer_lines(tmp_path) == frozenset({"近水楼台先得月", "向阳花木易为春"})  # 弟子规 quotes no verse


def test_loose_variants_are_their_own_words_not_folded() -> None:
    assert not set(LOOSE_VARIANTS) & set(VARIANTS)  # never both folded and matched loosely
    assert normalize_line("鍾山祇隔數重山") == "钟山祇隔数重山"  # normalising keeps 祇 …
    assert loose_key("钟山祇隔数重山") == loose_key("钟山只隔数重山") == "钟山只隔数重山"  # … matching meets 只
    assert loose_key("暖风薰得游人醉") == loose_key("暖风熏得游人醉")
    assert all(len(loose_key(ch)) == 1 for ch in LOOSE_VARIANTS)
