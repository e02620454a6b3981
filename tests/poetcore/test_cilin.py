"""词林正韵 部 from the 平水韵 groups (戈载's table), and the rhyme lookup behind /rhyme and /yun."""

from __future__ import annotations

import pytest

from poetcore.lexicon.rhyme_lookup import group_chars, lookup_char
from poetcore.lines.index import LineIndex, open_line_index
from poetcore.prosody.cilin import BU_NAMES, CilinTable
from poetcore.prosody.rhymes import RhymeTable

TABLE = RhymeTable.default()


def gid(label: str) -> str:
    found = TABLE.find_group(label)
    assert found is not None
    return found


def test_every_group_has_a_bu_and_the_table_has_nineteen() -> None:
    cilin = CilinTable.default()
    bus = {cilin.bu(next(iter(TABLE.members(g))), g) for g in TABLE.group_ids() if TABLE.members(g)}
    assert bus == set(range(1, 20)) and len(BU_NAMES) == 19


def test_whole_groups_merge_as_gezai_listed_them() -> None:
    cilin = CilinTable.default()
    assert cilin.bu("东", gid("东")) == cilin.bu("冬", gid("冬")) == 1
    assert cilin.bu("江", gid("江")) == cilin.bu("阳", gid("阳")) == 2
    assert cilin.bu("寒", gid("寒")) == cilin.bu("先", gid("先")) == 7
    assert cilin.bu("屋", gid("屋")) == 15 and cilin.bu("月", gid("月")) == 18  # 入声 部
    assert cilin.rhymes("东", "冬") and not cilin.rhymes("东", "江")


def test_split_groups_follow_the_final() -> None:
    cilin = CilinTable.default()
    hui = gid("灰")
    assert cilin.bu("回", hui) == cilin.bu("杯", hui) == 3  # -uei / -ei: with 支微齐
    assert cilin.bu("来", hui) == cilin.bu("开", hui) == 5  # -ai: with 佳
    yuan = gid("元")
    assert cilin.bu("门", yuan) == cilin.bu("孙", yuan) == 6  # with 真文
    assert cilin.bu("元", yuan) == cilin.bu("言", yuan) == 7  # with 寒删先


@pytest.fixture(scope="module")
def builtin_index() -> LineIndex:
    return open_line_index(None)  # the index shipped in the package


def test_lookup_lists_readings_common_first_and_famous_rhyme_lines(builtin_index: LineIndex) -> None:
    found = lookup_char("行", builtin_index)
    labels = [r.label for r in found.readings]
    assert labels[:2] == ["庚", "阳"] and found.readings[0].uses > found.readings[1].uses > 0
    assert {r.tone for r in found.readings} == {"平", "仄"} and found.tones == "平仄"
    assert {(r.tone, r.four_tone) for r in found.readings} == {("平", "平声"), ("仄", "去声")}  # 行 hàng/héng: 漾, 敬
    assert found.readings[0].bu == "第十一部" and found.looked_up == "行"
    assert found.lines and all(r.text.endswith("行") and r.index % 2 == 1 for r in found.lines)
    assert lookup_char("𠀀").readings == []


def test_lookup_names_the_four_tone_of_ze_readings(builtin_index: LineIndex) -> None:
    yue = lookup_char("月", builtin_index)
    assert yue.tones == "仄" and [(r.label, r.four_tone) for r in yue.readings] == [("月", "入声")]
    assert yue.readings[0].uses > 50  # counted in the corpus's 仄韵 poems
    assert yue.lines and all(r.text.endswith("月") for r in yue.lines)
    assert {r.four_tone for r in lookup_char("断").readings} == {"上声", "去声"}


@pytest.mark.parametrize(("typed", "folded"), [("東", "东"), ("隠", "隐"), ("風", "风")])
def test_lookup_folds_traditional_and_variant_forms(builtin_index: LineIndex, typed: str, folded: str) -> None:
    found, plain = lookup_char(typed, builtin_index), lookup_char(folded, builtin_index)
    assert (found.char, found.looked_up) == (typed, folded) and found.to_dict()["looked_up"] == folded
    assert found.readings == plain.readings and found.readings[0].uses > 0
    assert [r.text for r in found.lines] == [r.text for r in plain.lines]
    assert lookup_char("東", builtin_index).lines  # 東 itself is nowhere in the (simplified) index


def test_group_chars_ranks_by_corpus_rhyme_uses() -> None:
    found = group_chars("东", limit=10)
    assert found is not None
    group, chars = found
    assert group == "上平一东" and chars[0][0] == "风" and chars[0][1] > chars[-1][1]
    assert group_chars("一先") is not None and group_chars("nonsense") is None


def test_group_chars_ranks_ze_groups_by_their_ze_rhymed_uses() -> None:
    found = group_chars("月", limit=10)
    assert found is not None
    group, chars = found
    assert group == "入声六月" and chars[0] == ("月", chars[0][1]) and chars[0][1] > chars[1][1] > 0
    assert [n for _, n in chars] == sorted((n for _, n in chars), reverse=True)
    unranked = group_chars("讲")  # no corpus poem rhymes in 上声三讲
    assert unranked is not None and unranked[1] and all(n == 0 for _, n in unranked[1])
    assert [ch for ch, _ in unranked[1]] == sorted(ch for ch, _ in unranked[1])


def test_cli_rhyme_and_yun() -> None:
    import json

    from typer.testing import CliRunner

    from poetcore.cli.main import app

    runner = CliRunner()
    out = runner.invoke(app, ["rhyme", "还", "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert data["readings"][0]["label"] == "删" and data["readings"][0]["bu"] == "第七部" and data["lines"]
    assert runner.invoke(app, ["rhyme", "春风"]).exit_code == 2
    both = runner.invoke(app, ["rhyme", "行"])
    assert both.exit_code == 0 and both.stdout.startswith("“行”：平仄两读") and "（仄·去声）" in both.stdout
    trad = runner.invoke(app, ["rhyme", "東"])
    assert trad.stdout.startswith("“東”（按“东”查）：平声") and "押此韵 0 次" not in trad.stdout
    yun = runner.invoke(app, ["yun", "东", "--limit", "5"])
    assert yun.exit_code == 0 and yun.stdout.startswith("上平一东：风")
    bad = runner.invoke(app, ["yun", "火星"])
    assert bad.exit_code == 2 and "没有名为" in bad.output
