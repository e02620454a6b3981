"""Rhyme lookup, like 搜韵's 查韵: a character's readings, and the characters of a group.

``lookup_char("行")`` gives each 平水韵 reading (group, tone, 词林正韵 部, how often the corpus
rhymes the character there), and famous lines that end in it at a rhyme position (an even line of
its poem), with their sources. ``group_chars("东")`` lists a group's characters by how often the
corpus rhymes them there (`RhymeUsage`), the table's rarely used members after them. Torch-free:
the bots answer /rhyme and /yun in process.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from poetcore.lexicon.rhyme_usage import RhymeUsage
from poetcore.lines.index import LineIndex, LineRecord
from poetcore.prosody.cilin import BU_NAMES, CilinTable
from poetcore.prosody.rhymes import RhymeTable

__all__ = ["CharRhymes", "Reading", "group_chars", "lookup_char"]


@dataclass(frozen=True)
class Reading:
    gid: str
    label: str  # 东
    tone: str  # 平 / 仄
    bu: str  # 词林正韵: 第一部
    uses: int  # rhyme uses in the corpus (平声 groups only)


@dataclass
class CharRhymes:
    char: str
    tones: str  # 平, 仄 or 平仄
    readings: list[Reading] = field(default_factory=list)
    lines: list[LineRecord] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return {"char": self.char, "tones": self.tones,
                "readings": [r.__dict__ for r in self.readings],
                "lines": [{"text": r.text, "source": r.source} for r in self.lines]}


def lookup_char(ch: str, index: LineIndex | None = None, *, n_lines: int = 2, table: RhymeTable | None = None,
                usage: RhymeUsage | None = None, cilin: CilinTable | None = None) -> CharRhymes:
    table = table or RhymeTable.default()
    usage = usage or RhymeUsage.default()
    cilin = cilin or CilinTable.default()
    tones = "".join(sorted(t.value for t in table.tones(ch)))
    readings = sorted(
        (Reading(gid, table.group_label(gid), table.group(gid).tone.value, BU_NAMES[cilin.bu(ch, gid) - 1],
                 usage.uses(ch, gid)) for gid in table.groups(ch)),
        key=lambda r: (-r.uses, r.tone != "平", r.gid))
    found = CharRhymes(ch, tones, readings)
    if index is not None:
        for length in (7, 5):
            for record in index.with_char(ch, position=length, lengths=(length,), limit=20):
                if record.index % 2 == 1 and record.text.endswith(ch) and len(found.lines) < n_lines:
                    found.lines.append(record)
        found.lines.sort(key=lambda r: r.id)
    return found


def group_chars(label: str, *, limit: int = 40, table: RhymeTable | None = None,
                usage: RhymeUsage | None = None) -> tuple[str, list[tuple[str, int]]] | None:
    """(group id, [(char, rhyme uses)]) for a group named like /check's labels (东, 一东, 上平一东)."""
    table = table or RhymeTable.default()
    usage = usage or RhymeUsage.default()
    gid = table.find_group(label)
    if gid is None:
        return None
    members = table.members(gid)
    ranked = sorted(members, key=lambda ch: (-usage.uses(ch, gid), ch))
    return gid, [(ch, usage.uses(ch, gid)) for ch in ranked[:limit]]
