"""Replacement suggestions: checked by the checker, ranked by corpus bigrams, no model needed."""

from __future__ import annotations

import json
import random
from pathlib import Path

from typer.testing import CliRunner

from poetcore.cli.main import app
from poetcore.data.corpus import load_split
from poetcore.lexicon.bigrams import BigramTable
from poetcore.lexicon.suggest import suggest
from poetcore.prosody.checker import check
from poetcore.prosody.rhymes import RhymeTable, Tone

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "corpus"
DENGGAO = "风急天高猿啸哀，渚清沙白鸟飞回。无边落木萧萧下，不尽长江滚滚来。万里悲秋常作客，百年多病独登台。艰难苦恨繁霜鬓，潦倒新停浊酒杯。"


def test_a_broken_rhyme_gets_a_rhyming_replacement_ranked_by_its_neighbour() -> None:
    report = check(DENGGAO.replace("独登台", "独登楼"))
    (s,) = suggest(report)
    assert (s.line, s.position, s.char, s.violation) == (5, 6, "楼", "rhyme")
    assert s.replacements[0] == "台" and len(s.replacements) <= 5
    table = RhymeTable.default()
    assert all(report.rhyme_group_id in table.ping_groups(ch) for ch in s.replacements)


def test_applying_the_first_suggestion_removes_that_violation() -> None:
    """Property: take correct corpus poems, break one key-position tone, and the first suggestion for
    every flagged position removes that position's violation."""
    table = RhymeTable.default()
    rng = random.Random(3)
    opposite = {Tone.PING: "月白夜雪石", Tone.ZE: "东风天前烟"}
    tried = fixed = 0
    for poem in load_split(FIXTURE, "train"):
        text = "，".join(poem["lines"])
        if not check(text, form=poem["form"]).ok:
            continue
        lines = [list(line) for line in poem["lines"]]
        li = rng.randrange(len(lines))
        pos = 1  # the 2nd character: a key position, so a wrong tone is 犯律
        tones = table.tones(lines[li][pos])
        if len(tones) != 1:
            continue
        lines[li][pos] = next(ch for ch in opposite[next(iter(tones))] if ch not in text)
        report = check("，".join("".join(x) for x in lines), form=poem["form"])
        for s in suggest(report, bigrams=BigramTable.default()):
            tried += 1
            repaired = [list(x) for x in report.lines]
            repaired[s.line][s.position] = s.replacements[0]
            after = check("，".join("".join(x) for x in repaired), form=poem["form"])
            assert not any(v.line == s.line and v.code == s.violation and v.position == s.position
                           for v in after.violations), (report.lines, s)
            fixed += 1
        if tried >= 25:
            break
    assert tried >= 15 and fixed == tried


def test_cli_suggest_prints_and_writes_json() -> None:
    runner = CliRunner()
    broken = DENGGAO.replace("独登台", "独登楼")
    text = runner.invoke(app, ["check", "--suggest", broken])
    assert text.exit_code == 1 and "建议：第六句第七字“楼”可换作台" in text.output
    data = json.loads(runner.invoke(app, ["check", "--suggest", "--json", broken]).stdout)
    assert data["suggestions"][0]["replacements"][0] == "台"
    assert "suggestions" not in json.loads(runner.invoke(app, ["check", "--json", broken]).stdout)


def test_bigram_table_round_trips(tmp_path: Path) -> None:
    table = BigramTable.derive(["明月松间照", "明月几时有"] * 5, min_count=5)
    assert table.count("明月") == 10 and table.count("松间") == 5 and table.after["明"] == {"月": 10}
    table.save(tmp_path / "b.tsv.gz")
    assert BigramTable.load(tmp_path / "b.tsv.gz").counts == table.counts
    table.save(tmp_path / "c.tsv.gz")
    assert (tmp_path / "b.tsv.gz").read_bytes() == (tmp_path / "c.tsv.gz").read_bytes()


def test_a_dieci_is_licensed_by_count_and_share() -> None:
    from poetcore.lexicon.bigrams import DIECI_RATE, MIN_DIECI

    table = BigramTable({"青青": MIN_DIECI, "青山": 100, "月月": MIN_DIECI, "月明": round(MIN_DIECI / DIECI_RATE),
                         "鱼鱼": MIN_DIECI - 1})
    assert table.reduplicated() == {"青"}  # 月月: too small a share of 月's pairs; 鱼鱼: too few
    shipped = BigramTable.default().reduplicated()
    assert set("青萧处年") <= shipped and not set("月鱼绿风") & shipped
