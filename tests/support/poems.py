"""What every composed poem must be, whatever the model: the shared judge of the composer tests."""

from __future__ import annotations

from poetcore.prosody.checker import check
from poetcore.prosody.forms import FORMS
from poetcore.prosody.rhymes import RhymeTable
from poetcore.request import Poem


def collapsed(lines: list[str], dieci: bool) -> list[str]:
    """The poem's characters with the second half of each 叠字 (a pair, never three) dropped."""
    out = []
    for line in lines:
        for k, ch in enumerate(line):
            pair = k >= 1 and line[k - 1] == ch and not (k >= 2 and line[k - 2] == ch)
            if not (dieci and pair):
                out.append(ch)
    return out


def assert_regulated(poem: Poem, form: str, repeat: str = "dieci", rhyme: str | None = None) -> None:
    tmpl = FORMS[form]
    assert poem.form == form
    assert [len(line) for line in poem.lines] == list(tmpl.line_lengths)
    report = check(poem.text, form=form)
    assert report.ok, (poem.text, [v.message for v in report.violations])
    table = RhymeTable.default()
    gid = table.find_group(poem.rhyme_group)
    rhyme_chars = [report.lines[i][-1] for i in tmpl.variant(report.variant).rhyme_lines]
    assert all(gid in table.ping_groups(ch) for ch in rhyme_chars), (poem.text, poem.rhyme_group)
    if rhyme is None:
        assert poem.rhyme_group == report.rhyme_group, poem.text
    else:
        # Rhyme characters in two groups (旗: 支 and 微) rhyme in both; the checker breaks the tie
        # by group order, the poem keeps the group the user asked for.
        assert poem.rhyme_group == rhyme
    assert poem.check().ok
    chars = collapsed(poem.lines, dieci=repeat == "dieci")
    if repeat != "any":
        assert len(set(chars)) == len(chars), poem.text
