import json

import pytest

from poetcore.prosody.rhymes import STRAIN_TONES_PATH, RhymeGroup, RhymeTable, Tone, _jyutping_tones

P, Z = frozenset({Tone.PING}), frozenset({Tone.ZE})


@pytest.fixture(scope="module")
def table() -> RhymeTable:
    return RhymeTable.default()


def test_default_is_cached(table: RhymeTable) -> None:
    assert RhymeTable.default() is table


def test_106_groups_and_30_ping_in_order(table: RhymeTable) -> None:
    assert len(table.group_ids()) == 106
    ping = table.ping_group_ids()
    assert len(ping) == 30
    assert (
        ping[0] == "上平一东"
        and ping[14] == "上平十五删"
        and ping[15] == "下平一先"
        and ping[-1] == "下平十五咸"
    )
    assert [table.group_label(g) for g in ping[:5]] == ["东", "冬", "江", "支", "微"]
    assert len({table.group_label(g) for g in table.group_ids()}) == 106  # labels are unique


def test_tones_simplified_and_traditional(table: RhymeTable) -> None:
    assert table.tones("东") == table.tones("東") == P
    assert table.tones("急") == Z  # 入声 is 仄
    assert table.tones("啸") == table.tones("嘯") == Z
    assert table.tones("看") == P | Z  # genuinely polyphonic
    assert table.is_polyphonic("看") and not table.is_polyphonic("东")
    assert [table.tones(ch) for ch in "风急"] == [P, Z]


def test_simplification_merges_readings(table: RhymeTable) -> None:
    # 干 (干戈, 寒) + 乾 (乾坤, 先/寒) + 幹 (翰, 仄) all simplify to 干.
    merged = table.groups("干")
    assert table.groups("乾") <= merged and table.groups("幹") <= merged
    assert table.tones("干") == P | Z
    assert table.groups("後") <= table.groups("后")
    assert table.groups("髮") | table.groups("發") <= table.groups("发")


def test_groups_and_rhymes(table: RhymeTable) -> None:
    assert table.groups("东") == {"上平一东"}
    assert table.ping_groups("看") == {"上平十四寒"}
    assert table.rhymes("东", "同") and table.rhymes("東", "同")
    assert not table.rhymes("东", "冬")  # neighbours, but different groups
    assert table.groups("Q") == frozenset()
    assert table.members("上平一东") >= {"东", "同", "风", "中"}
    with pytest.raises(KeyError, match="unknown rhyme group id"):
        table.group_label("上平九十九")


@pytest.mark.parametrize("name", ["东", "一东", "上平一东", "上平声一东", "上平聲一東", "東", "东韵"])
def test_find_group_spellings(table: RhymeTable, name: str) -> None:
    assert table.find_group(name) == "上平一东"


def test_find_group_other_tones_and_misses(table: RhymeTable) -> None:
    assert table.find_group("屋") == "入声一屋"
    assert table.find_group("十一尤") == "下平十一尤"
    assert table.find_group("") is None
    assert table.find_group("不是韵") is None


def test_chars_are_simplified(table: RhymeTable) -> None:
    chars = table.chars()
    assert {"东", "风", "后"} <= chars
    assert "東" not in chars and "風" not in chars
    assert len(chars) > 7000


def test_tone_sources(table: RhymeTable) -> None:
    assert table.tone_source("东") == "table"
    assert table.tone_source("龘") == "jyutping"  # in neither the table nor the strains asset
    assert table.tone_source("a") == "none" and table.tones("a") == frozenset()


def test_strains_asset_has_provenance_and_answers(table: RhymeTable) -> None:
    data = json.loads(STRAIN_TONES_PATH.read_text(encoding="utf-8"))
    meta = data["_meta"]
    assert meta["source_sha1"] == "b6e7e60d0accac7c723d066a5c360549aab8299d"
    assert meta["generator"] == "scripts/build_strain_tones.py"
    assert meta["validation"]["agreement_with_table"] > 0.98
    assert len(data["tones"]) == meta["n_chars"] > 1000
    for ch, marks in list(data["tones"].items())[::97]:
        # A character the corpus also rhymes clearly has its 平声 group from there ("corpus").
        assert table.tone_source(ch) in ("strains", "corpus"), ch
        assert table.tones(ch) == frozenset(Tone(m) for m in marks)


def test_characters_missing_from_the_list_get_their_corpus_group(table: RhymeTable) -> None:
    """啼 and 炉 are not in the 平水韵 list the package ships; poets rhyme them in 齐 and 虞, so 春怨
    (金昌绪) and 问刘十九 (白居易) rhyme. The list itself is unchanged (listed_only)."""
    from poetcore.prosody.checker import check

    assert table.group_label(next(iter(table.ping_groups("啼")))) == "齐" and table.tone_source("啼") == "corpus"
    assert table.group_label(next(iter(table.ping_groups("炉")))) == "虞"
    assert not RhymeTable.listed_only().ping_groups("啼")
    assert check("打起黄莺儿，莫教枝上啼。啼时惊妾梦，不得到辽西。").rhyme_group == "齐"
    assert check("绿蚁新醅酒，红泥小火炉。晚来天欲雪，能饮一杯无。").ok


def test_jyutping_fallback_reads_ru_sheng() -> None:
    for ch in "白日月石竹":  # Cantonese -k/-t/-p endings: 入声
        assert _jyutping_tones(ch) == Z
    assert _jyutping_tones("东") == P  # tone 1


def test_custom_table_validates_groups() -> None:
    groups = [RhymeGroup("上平一东", "东", Tone.PING, 0, "上平聲一東")]
    small = RhymeTable(groups, {"上平一东": ["東", "同"]}, use_jyutping=False)
    assert small.tones("东") == P and small.tones("月") == frozenset()
    with pytest.raises(ValueError, match="unknown groups"):
        RhymeTable(groups, {"上平二冬": ["冬"]})


def test_errata_restore_readings_the_source_lost(table: RhymeTable) -> None:
    # 下平一先 lacked its own name character; 先 must be 平 (and 霰 仄).
    assert "先" in table.members("下平一先") and table.tones("先") == P | Z
    # 浮槎 rhymes in 麻 (杜甫《秋兴》其二: 斜 华 槎 笳 花).
    assert table.rhymes("槎", "花") and table.ping_groups("槎") == {"下平六麻"}
    assert table.tones("伎") == P | Z
