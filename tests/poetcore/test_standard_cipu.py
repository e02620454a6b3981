"""The corpus 词谱 against 龙榆生《唐宋词格律》 (transcribed by hand) for the 20 most common 词牌."""

from __future__ import annotations

from dataclasses import replace

import pytest
from typer.testing import CliRunner

from poetcore.cli.main import app
from poetcore.prosody.cipu import load_cipu
from poetcore.prosody.standard_cipu import (
    StandardChart,
    compare,
    compare_all,
    load_standard_cipu,
    standard_source,
)

# The book's headline for each 词牌: characters, and rhymes (e.g. 满江红 "九十三字，前片四仄韵，后片五仄韵").
BOOK = {"浣溪沙": (42, 5), "水调歌头": (95, 8), "鹧鸪天": (55, 6), "菩萨蛮": (44, 8), "满江红": (93, 9),
        "西江月": (50, 6), "临江仙": (60, 6), "减字木兰花": (44, 8), "念奴娇": (100, 8), "沁园春": (114, 9),
        "蝶恋花": (60, 8), "点绛唇": (41, 7), "贺新郎": (116, 12), "清平乐": (46, 7), "满庭芳": (95, 9),
        "好事近": (45, 4), "虞美人": (56, 8), "水龙吟": (102, 8), "朝中措": (48, 5), "渔家傲": (62, 10)}
CHANGES_RHYME = {"菩萨蛮": "仄平仄平", "减字木兰花": "仄平仄平", "虞美人": "仄平仄平", "清平乐": "仄平"}


@pytest.fixture(scope="module")
def standards() -> dict[str, StandardChart]:
    return load_standard_cipu()


def test_the_data_names_its_source_and_covers_the_twenty_most_common(standards: dict[str, StandardChart]) -> None:
    assert "龙榆生《唐宋词格律》" in standard_source()
    charted = sorted((c for c in load_cipu().values() if c.shapes), key=lambda c: -c.poems)
    assert list(standards) == [c.cipai for c in charted[:20]] == list(BOOK)


@pytest.mark.parametrize("cipai", list(BOOK))
def test_each_chart_is_self_consistent(standards: dict[str, StandardChart], cipai: str) -> None:
    std = standards[cipai]
    chars, rhymes = BOOK[cipai]
    assert sum(std.lengths) == chars and len(std.rhymes) == rhymes
    assert [len(seg) for seg in std.chart] == std.lengths and len(std.ends) == len(std.chart)
    assert all(0 <= i < len(std.chart) for group in std.rhyme_sets for i in group)
    assert all(std.chart[i][-1] in ("中", tone) for i, tone in std.xie.items())  # 叶 lines end in their tone
    assert "".join(std.rhyme_set_tones) == CHANGES_RHYME.get(cipai, std.rhyme_set_tones[0])
    for segment, position in std.expected.positions:
        assert 1 <= position <= std.lengths[segment - 1]
    assert std.uncertain  # "无。" when the transcriber was sure of every position


@pytest.mark.parametrize("cipai", list(BOOK))
def test_the_shape_agrees_or_the_difference_is_the_listed_one(standards: dict[str, StandardChart],
                                                               cipai: str) -> None:
    std = standards[cipai]
    cmp = compare(load_cipu()[cipai].shapes[0], std)
    assert cmp.same_length
    assert set(cmp.breaks_standard_only) == std.expected.breaks_standard_only
    assert set(cmp.breaks_corpus_only) == std.expected.breaks_corpus_only
    assert cmp.shape_agrees or std.expected.breaks_why


@pytest.mark.parametrize("cipai", list(BOOK))
def test_every_position_both_charts_decide_agrees(standards: dict[str, StandardChart], cipai: str) -> None:
    std = standards[cipai]
    cmp = compare(load_cipu()[cipai].shapes[0], std)
    assert cmp.both_decided >= 25  # the check has substance: most 2nd/4th/6th and last characters
    assert {d.standard_at for d in cmp.disagreements} == set(std.expected.positions)


@pytest.mark.parametrize("cipai", list(BOOK))
def test_the_rhymes_agree_or_the_difference_is_the_listed_one(standards: dict[str, StandardChart],
                                                               cipai: str) -> None:
    std = standards[cipai]
    cmp = compare(load_cipu()[cipai].shapes[0], std)
    assert set(cmp.rhymes_standard_only) == std.expected.rhymes_standard_only
    assert set(cmp.rhymes_corpus_only) == std.expected.rhymes_corpus_only
    assert not cmp.tone_differences and not cmp.grouping_differences
    assert cmp.rhymes_agree or std.expected.rhymes_why


def test_the_known_differences_are_these_two() -> None:
    differing = {name for name, cmp in compare_all().items() if not cmp.agrees}
    assert differing == {"水调歌头", "满庭芳"}


def test_compare_reports_a_flipped_mark_a_moved_break_and_a_wrong_tone(standards: dict[str, StandardChart]) -> None:
    shape = load_cipu()["满江红"].shapes[0]
    std = standards["满江红"]
    assert compare(shape, std).agrees
    first = std.chart[0]  # 中仄平平: the 2nd character is 仄 in both charts
    flipped = replace(std, chart=("中平" + first[2:], *std.chart[1:]))
    cmp = compare(shape, flipped)
    assert [(d.corpus_at, d.corpus, d.standard) for d in cmp.disagreements] == [((1, 2), "仄", "平")]
    assert cmp.disagreements[0].agreement == shape.agreement[0][1] >= 0.8
    # 4+3 -> 3+4 at the start: one break each side, positions still compared in the running sequence
    moved = replace(std, chart=(first[:3], first[3] + std.chart[1], *std.chart[2:]))
    cmp = compare(shape, moved)
    assert (cmp.breaks_standard_only, cmp.breaks_corpus_only) == ((3,), (4,)) and cmp.positions_agree
    # 满江红 rhymes in 入声: a book 仄韵 fits it, a 平韵 does not
    assert compare(shape, replace(std, rhyme_set_tones=("入",))).rhymes_agree
    assert compare(shape, replace(std, rhyme_set_tones=("平",))).tone_differences


def test_compare_reports_a_missing_rhyme_and_a_merged_rhyme_change(standards: dict[str, StandardChart]) -> None:
    shape = load_cipu()["菩萨蛮"].shapes[0]
    std = standards["菩萨蛮"]
    one_set = replace(std, rhyme_sets=(tuple(range(8)),), rhyme_set_tones=("仄",))
    cmp = compare(shape, one_set)
    assert cmp.grouping_differences and cmp.tone_differences and not cmp.rhymes_agree
    fewer = replace(std, rhyme_sets=((0, 1), (2, 3), (4, 5), (7,)), ends="韵" * 6 + "句韵")
    assert compare(shape, fewer).rhymes_corpus_only == (39,)  # the 7th line ends on the 39th character


def test_cli_prints_the_comparison_and_flags_the_list() -> None:
    runner = CliRunner()
    out = runner.invoke(app, ["cipai", "水调歌头"])
    assert out.exit_code == 0, out.output
    assert "与《唐宋词格律》对照" in out.output
    assert "断句不同：第 58–68 字书作 4+7，语料作 6+5" in out.output
    assert "两谱都定声的" in out.output and "处全合" in out.output
    assert "语料又一体（2）与书全合" in out.output
    same = runner.invoke(app, ["cipai", "浣溪沙"]).output
    assert "句式：相同（42 字，6 段）" in same and "韵位：相同（5 处，平韵）" in same
    rows = {line.split()[0]: line for line in runner.invoke(app, ["cipai"]).output.splitlines() if line.strip()}
    assert rows["浣溪沙"].endswith("《唐宋词格律》相合")
    assert rows["水调歌头"].endswith("《唐宋词格律》有异（句读）")
    assert rows["满庭芳"].endswith("《唐宋词格律》有异（韵位）")
    assert "唐宋词格律" not in rows["卜算子"]  # not transcribed: no flag
