"""词谱 derived from the 宋词: shapes, per-position tones with their agreement, rhyme positions."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from poetcore.cli.main import app
from poetcore.data.corpus import load_split
from poetcore.decoding.spec import body_layout
from poetcore.prosody.ci_check import check_ci
from poetcore.prosody.cilin import CilinTable
from poetcore.prosody.cipu import ci_form, derive_cipu, load_cipu
from poetcore.prosody.forms import ANY, allowed_tones
from poetcore.prosody.rhymes import RhymeTable, Tone

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


def _pools(table: RhymeTable, cilin: CilinTable) -> tuple[dict[str, list[str]], dict[tuple[int, str], list[str]]]:
    """Characters of one certain tone, and rhyme characters by (部, 平/仄/入), each of one reading."""
    tones: dict[str, list[str]] = {"平": [], "仄": []}
    rhymes: dict[tuple[int, str], list[str]] = {}
    for ch in sorted(table.chars()):
        readings = cilin.bu_of(ch)
        if len(table.tones(ch)) != 1 or len(readings) != 1:
            continue
        tone = "平" if Tone.PING in table.tones(ch) else "仄"
        tones[tone].append(ch)
        ((_gid, bu),) = readings.items()
        kind = "入" if bu >= 15 else tone
        rhymes.setdefault((bu, kind), []).append(ch)
    return tones, rhymes


def _write_from_form(cipai: str, k: int, tones: dict[str, list[str]],
                     rhymes: dict[tuple[int, str], list[str]]) -> str:
    """A 词 written from the FormTemplate alone: each mark's tone, each rhyme set in one 部."""
    variant = ci_form(load_cipu()[cipai], k).variants[0]
    rhyme_of = {}
    for group in variant.rhyme_groups:
        for line in group.lines:
            mark = variant.lines[line][-1]
            kind = "入" if group.tone == "入" else (mark if mark != ANY else group.tone)
            rhyme_of[line] = rhymes[(18 if kind == "入" else 7, kind)]  # 第七部 (先 and its 仄), 第十八部
    out, n = [], 0
    for i, (pattern, mark) in enumerate(zip(variant.lines, variant.punctuation, strict=True)):
        line = ""
        for j, want in enumerate(pattern):
            n += 1
            pool = rhyme_of[i] if i in rhyme_of and j == len(pattern) - 1 else tones["平" if want == ANY else want]
            line += pool[(n * 7) % len(pool)]
        out.append(line + mark)
    return "".join(out)


def test_every_chart_is_a_form_template_that_a_writer_can_follow() -> None:
    """The 词谱 as form data, as composing 词 will read it: a 词 written from the FormTemplate alone
    (the decoder's layout, its per-line tone masks) passes the 词 checker, for every charted shape."""
    table, cilin = RhymeTable.default(), CilinTable.default()
    tones, rhymes = _pools(table, cilin)
    checked = 0
    for chart in load_cipu().values():
        for k, shape in enumerate(chart.shapes):
            form = ci_form(chart, k)
            variant = form.variants[0]
            assert form.line_lengths == tuple(shape.lengths) and variant.punctuation == shape.marks
            assert form.rules == frozenset() and sorted(variant.rhyme_lines) == sorted(shape.rhymes)
            assert [s.tone for s in variant.rhyme_groups] == (shape.rhyme_set_tones or [shape.rhyme_tone])
            layout = body_layout(form, comma_id=1, period_id=2)
            assert [a for kind, a, _ in layout if kind == 1] == [1 if m == "，" else 2 for m in shape.marks]
            for pattern in variant.lines:  # the decoder's tone mask at each line start is the chart's
                assert allowed_tones(pattern, (), form.rules) == (
                    {Tone.PING, Tone.ZE} if pattern[0] == ANY else {Tone(pattern[0])})
            if len(chart.shapes) > 1 and k > 0:
                continue  # an 又一体 of the same length may be detected as its 正体 when untitled
            text = _write_from_form(chart.cipai, k, tones, rhymes)
            report = check_ci(f"{chart.cipai}\n{text}")
            assert report.ok and report.shape == variant.name, (chart.cipai, text, report.violations)
            checked += 1
    assert checked >= 45
