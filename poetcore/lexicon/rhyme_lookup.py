"""Rhyme lookup, like 搜韵's 查韵: a character's readings, and the characters of a group.

``lookup_char("行")`` gives each 平水韵 reading (group, tone and 四声, 词林正韵 部, how often the
corpus rhymes the character there), and famous lines that end in it at a rhyme position (an even line
of its poem), with their sources. A traditional or variant form (東, 隠) is folded to the standard
simplified character first, the form the corpus counts and the line index store; the answer keeps
both. ``group_chars("东")`` lists a group's characters by how often the corpus rhymes them there
(`RhymeUsage`, 仄 groups from 仄韵 poems), the table's unrhymed members after them. Torch-free: the
bots answer /rhyme and /yun in process.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from poetcore.lexicon.rhyme_usage import RhymeUsage
from poetcore.lines.index import LineIndex, LineRecord
from poetcore.prosody.cilin import BU_NAMES, CilinTable
from poetcore.prosody.rhymes import RhymeTable
from poetcore.text.normalize import normalize_line

__all__ = ["CharRhymes", "Reading", "fold_char", "four_tone", "group_chars", "lookup_char"]

_FOUR_TONES = {"上平": "平声", "下平": "平声", "上声": "上声", "去声": "去声", "入声": "入声"}


def four_tone(gid: str) -> str:
    """The 四声 of a group id: 平声 (上平, 下平), 上声, 去声 or 入声."""
    return _FOUR_TONES[gid[:2]]


def fold_char(ch: str) -> str:
    """The standard simplified form of one character (東 -> 东, 隠 -> 隐); ``ch`` itself when there is none."""
    folded = normalize_line(ch)
    return folded if len(folded) == 1 else ch


@dataclass(frozen=True)
class Reading:
    gid: str
    label: str  # 东
    tone: str  # 平 / 仄
    four_tone: str  # 平声 / 上声 / 去声 / 入声
    bu: str  # 词林正韵: 第一部
    uses: int  # rhyme uses in the corpus (仄 groups: in 仄韵 poems)


@dataclass
class CharRhymes:
    char: str  # as asked
    tones: str  # 平, 仄 or 平仄 (两读)
    readings: list[Reading] = field(default_factory=list)
    lines: list[LineRecord] = field(default_factory=list)
    looked_up: str = ""  # the folded form the tables were read with (东 for 東); char when the same

    def to_dict(self) -> dict[str, object]:
        return {"char": self.char, "looked_up": self.looked_up or self.char, "tones": self.tones,
                "readings": [r.__dict__ for r in self.readings],
                "lines": [{"text": r.text, "source": r.source} for r in self.lines]}


def lookup_char(ch: str, index: LineIndex | None = None, *, n_lines: int = 2, table: RhymeTable | None = None,
                usage: RhymeUsage | None = None, cilin: CilinTable | None = None) -> CharRhymes:
    table = table or RhymeTable.default()
    usage = usage or RhymeUsage.default()
    cilin = cilin or CilinTable.default()
    key = fold_char(ch)
    # The table knows many traditional forms with their own readings (乾 qián, not only 干's): ask it
    # with the character as typed where it can answer; counts and lines exist for the folded form only.
    probe = ch if table.groups(ch) else key
    tones = "".join(t.value for t in sorted(table.tones(probe), key=lambda t: t.value != "平"))
    readings = sorted(
        (Reading(gid, table.group_label(gid), table.group(gid).tone.value, four_tone(gid),
                 BU_NAMES[cilin.bu(probe, gid) - 1], usage.uses(key, gid)) for gid in table.groups(probe)),
        key=lambda r: (-r.uses, r.tone != "平", r.gid))
    found = CharRhymes(ch, tones, readings, looked_up=key)
    if index is not None:
        for length in (7, 5):
            for record in index.with_char(key, position=length, lengths=(length,), limit=20):
                if record.index % 2 == 1 and record.text.endswith(key) and len(found.lines) < n_lines:
                    found.lines.append(record)
        found.lines.sort(key=lambda r: r.id)
    return found


def group_chars(label: str, *, limit: int = 40, table: RhymeTable | None = None,
                usage: RhymeUsage | None = None) -> tuple[str, list[tuple[str, int]]] | None:
    """(group id, [(char, rhyme uses)]) for a group named like /check's labels (东, 一东, 上平一东).

    Most rhymed first, then the members the corpus never rhymes there, in code-point order; in a group
    no corpus poem rhymes in (上声三讲, 去声三绛) every count is 0."""
    table = table or RhymeTable.default()
    usage = usage or RhymeUsage.default()
    gid = table.find_group(label)
    if gid is None:
        return None
    members = table.members(gid)
    ranked = sorted(members, key=lambda ch: (-usage.uses(ch, gid), ch))
    return gid, [(ch, usage.uses(ch, gid)) for ch in ranked[:limit]]
