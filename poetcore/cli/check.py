"""`poetcore check`: judge a poem's 格律 from the command line (exit 0 ok, 1 violations, 2 bad shape)."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.text import Text

from poetcore.errors import PoetcoreInputError
from poetcore.lexicon.suggest import suggest
from poetcore.prosody.checker import STYLE_GUTI, CheckReport, zh_number
from poetcore.prosody.ci_check import CiReport, check_text

__all__ = ["check_command", "render_ci_report", "render_report"]

_SYMBOL = {"ok": ("✓", "green"), "poly": ("~", "yellow"), "bad": ("✗", "bold red"), "ao": ("△", "yellow"),
           "unknown": ("?", "dim"), "free": ("·", "dim")}
EXIT_OK, EXIT_VIOLATIONS, EXIT_SHAPE = 0, 1, 2


def render_report(report: CheckReport, console: Console) -> None:
    """Each line with a mark under every character, then the verdict and the violations (a 古绝: the
    rhyme, then the 近体 findings as 参考)."""
    if report.style == STYLE_GUTI:
        tone = "仄韵" if report.rhyme_tone == "仄" else "平韵"
        console.print(f"体裁：{report.form_label}（{tone}，古体；按{report.form}·{report.variant}对照）  "
                      f"韵部：{report.rhyme_name or '无'}")
    else:
        console.print(f"体裁：{report.form}（{report.variant}）  韵部：{report.rhyme_group or '无'}")
    for pattern, row in zip(report.patterns, report.marks, strict=True):
        chars = Text("  ")
        signs = Text("  ")
        for mark in row:
            symbol, style = _SYMBOL[mark.mark]
            chars.append(mark.char, style="bold red" if mark.mark == "bad" else "")
            signs.append(symbol + " ", style=style)  # a Han char is two cells wide
        console.print(chars + Text(f"   {pattern}", style="dim"))
        console.print(signs)
    if report.style == STYLE_GUTI:
        _render_gu_jue(report, console)
        return
    if report.ok:
        console.print(Text("合律：无犯律之处。" if report.tolerated else "合律：平仄、粘对、押韵均无误。",
                           style="bold green"))
    else:
        console.print(Text(f"不合律：共{len(report.violations)}处犯律", style="bold red"))
        for v in report.violations:
            console.print(f"  - {v.message}")
    if report.tolerated:
        console.print(Text(f"拗（可容，不算犯律）：{len(report.tolerated)}处", style="yellow"))
        for v in report.tolerated:
            console.print(f"  - {v.message}")
    for note in report.notes:
        console.print(Text(f"↺ {note}", style="cyan"))
    for note in report.repeats:
        console.print(Text(f"· {note}", style="dim"))


def _render_gu_jue(report: CheckReport, console: Console) -> None:
    if report.ok:
        console.print(Text(f"古体，不拘平仄；押{report.rhyme_name}韵，押韵无误。", style="bold green"))
    else:
        console.print(Text(f"古体，不拘平仄；押韵有{len(report.violations)}处不合", style="bold red"))
        for v in report.violations:
            console.print(f"  - {v.message}")
    for note in report.notes:
        console.print(Text(f"↺ {note}", style="cyan"))
    if report.reference:
        chart = "入律的仄韵绝句" if report.rhyme_tone == "仄" else "律绝的格律"
        console.print(Text(f"参考（按{chart}，古体不必守）：{len(report.reference)}处", style="yellow"))
        for v in report.reference:
            console.print(f"  - {v.message}")
    for note in report.repeats:
        console.print(Text(f"· {note}", style="dim"))
    jue = "五绝" if len(report.lines[0]) == 5 else "七绝"
    console.print(Text(f"要按律绝检查，请加 --form {jue}。", style="dim"))


def render_ci_report(report: CiReport, console: Console) -> None:
    console.print(f"词牌：{report.cipai}（{report.shape}）  韵：词林正韵第{report.rhyme_bu}部")
    for line, pattern, row, rhyme in zip(report.lines, report.chart, report.marks, report.rhyme_marks, strict=True):
        chars, signs = Text("  "), Text("  ")
        for ch, mark in zip(line, row, strict=True):
            symbol, style = _SYMBOL.get(mark, ("·", "dim"))
            chars.append(ch, style="bold red" if mark == "bad" else "")
            signs.append(symbol + " ", style=style)
        console.print(chars + Text(f"   {pattern}" + (f"（{rhyme}）" if rhyme else ""), style="dim"))
        console.print(signs)
    if report.ok:
        console.print(Text("合谱：无犯律之处。", style="bold green"))
    else:
        console.print(Text(f"不合谱：共{len(report.violations)}处犯律", style="bold red"))
    for v in report.violations + report.tolerated:
        console.print(f"  - {v['message']}")


def check_command(
    text: Annotated[str | None, typer.Argument(help="诗句；省略或为 - 时从标准输入读取。")] = None,
    form: Annotated[str | None, typer.Option("--form", "-f", help="指定体裁：五绝 七绝 五律 七律，五绝仄韵 七绝仄韵，或词牌名。")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON 报告。")] = False,
    suggestions: Annotated[bool, typer.Option("--suggest", help="为每个犯律的字给出至多五个可换的字（按语料搭配排序）。")] = False,
) -> None:
    """检查一首诗或词的格律（平仄、孤平、三平尾、粘对、平水韵；古绝只论押韵；词按词谱）。退出码：0 合律，1 有违例，2 体裁不支持。"""
    if text is None or text == "-":
        text = sys.stdin.read()
    console = Console(highlight=False, soft_wrap=True)
    try:
        report = check_text(text, form=form)
    except PoetcoreInputError as err:
        if as_json:
            typer.echo(json.dumps({"ok": False, "error": err.to_dict()}, ensure_ascii=False))
        else:
            typer.echo(err.message_zh, err=True)
        raise typer.Exit(EXIT_SHAPE) from None
    if isinstance(report, CiReport):
        if as_json:
            typer.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
        else:
            render_ci_report(report, console)
        raise typer.Exit(EXIT_OK if report.ok else EXIT_VIOLATIONS)
    # A 古绝 is not made regular: replacements only where a 律绝 was read (or named with --form).
    found = suggest(report) if suggestions and not report.ok and report.style != STYLE_GUTI else []
    if as_json:
        data = report.to_dict()
        if suggestions:
            data["suggestions"] = [s.to_dict() for s in found]
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        render_report(report, console)
        for s in found:
            console.print(f"  建议：第{zh_number(s.line + 1)}句第{zh_number(s.position + 1)}字“{s.char}”可换作"
                          f"{'、'.join(s.replacements)}")
    raise typer.Exit(EXIT_OK if report.ok else EXIT_VIOLATIONS)
