"""词谱 derived from the 宋词: shapes, per-position tones with their agreement, rhyme positions."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from poetcore.cipu import derive_cipu, load_cipu
from poetcore.cli import app
from poetcore.data.corpus import load_split

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "corpus"


def test_the_shipped_chart_of_huanxisha_is_the_textbook_one() -> None:
    chart = load_cipu()["浣溪沙"]
    assert chart.reliable and chart.poems > 500
    main = chart.shapes[0]
    assert main.lengths == [7] * 6 and main.marks == "。。。，。。"
    # 王力《诗词格律》: 仄仄平平仄仄平 / 平平仄仄仄平平 (×2) / 平平仄仄平平仄 / 平平仄仄仄平平 (×2)
    assert [seg[1::2] for seg in main.chart] == ["仄平仄", "平仄平", "平仄平", "仄平仄", "平仄平", "平仄平"]
    assert main.rhymes == [0, 1, 2, 4, 5] and main.rhyme_tone == "平"
    assert all(0.0 <= r <= 1.0 for row in main.agreement for r in row)


def test_manjianghong_rhymes_in_the_entering_tone_and_small_cipai_get_no_chart() -> None:
    charts = load_cipu()
    assert charts["满江红"].shapes[0].rhyme_tone == "入"
    assert len(charts) == 50
    unreliable = [c for c in charts.values() if not c.reliable]
    assert all(not c.shapes for c in unreliable)  # said so, never guessed


def test_derive_on_the_fixture_votes_tones_and_finds_rhymes() -> None:
    records = load_split(FIXTURE, "ci_train")
    charts = {c.cipai: c for c in derive_cipu(records)}
    huan = charts["浣溪沙"].shapes[0]
    assert huan.poems >= 8 and huan.lengths == [7] * 6
    assert huan.chart[0][1] == "仄" and huan.chart[0][6] == "平"  # the 2nd and the rhyme position
    assert 0 in huan.rhymes and 3 not in huan.rhymes


def test_cli_prints_a_chart_and_refuses_an_unknown_cipai() -> None:
    runner = CliRunner()
    out = runner.invoke(app, ["cipai", "浣溪沙"])
    assert out.exit_code == 0 and "浣溪沙 正体" in out.output and "（韵）" in out.output
    bad = runner.invoke(app, ["cipai", "火星引"])
    assert bad.exit_code == 2 and "没有“火星引”的词谱" in bad.output
