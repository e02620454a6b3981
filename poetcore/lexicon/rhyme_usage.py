"""How the corpus actually rhymes: per 平声 group, how often each character ends a rhyme line in it.

The 平水韵 table lists every reading a character ever had, and some are so rare that no reader hears
them: 平 and 还 each have a reading in 先韵, so ``…水欲平，…见春天。…万古还。`` passes every checker
yet does not rhyme to the ear. Decoding therefore uses a character as a rhyme of group G only where
poets did: `RhymeUsage.common` is true when the corpus rhymes the character in G at least
``MIN_USES`` times and at least ``MIN_SHARE`` of the character's rhyme uses fall in G. The checker
(`/check`) keeps using the full table: every legitimate reading stays accepted there.

Counting (``derive``): in every regular 诗 of the prepared corpus, the even lines' last characters
must share exactly one 平声 group G (else the poem is skipped as ambiguous or not 平韵); each of
them, and the first line's last character when it is in G too (首句入韵), counts one use in G.
A poem whose even lines share no 平声 group but exactly one 仄声 group (春晓's 晓 鸟 少 in 筱, 江雪's
绝 灭 雪 in 屑) counts the same way in that group, kept apart in ``ze_counts``: /yun and /rhyme
rank 仄 groups by them, while decoding and ``common``/``dominant`` read the 平声 counts only.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

from poetcore.paths import asset_path
from poetcore.prosody.rhymes import RhymeTable, Tone

__all__ = ["MIN_SHARE", "MIN_USES", "RHYME_USAGE_PATH", "RhymeUsage"]

RHYME_USAGE_PATH = asset_path("lexicon", "rhyme_usage.json")
MIN_USES = 5
"""Fewer rhyme uses than this in a group is noise (copying errors, a single odd poem)."""
UNLISTED_MIN_USES = 5
UNLISTED_MIN_SHARE = 0.8
"""A character missing from the 平水韵 list (啼, 炉) gets the 平声 group its rhyme partners agree on
in at least this share of its uses (the partners' group is taken when exactly one fits them all)."""
MIN_SHARE = 0.25
"""A secondary reading counts as common from a quarter of the character's rhyme uses. Lower lets the
model rhyme 行 in 阳 (行列: 875 of its 4,939 uses), and it does so with 行 meaning "to go", which
the ear then hears in 庚; 还 in 先 (54 of 3,043) and 平 in 先 (4 of 2,414) are far below."""


class RhymeUsage:
    """Rhyme-position counts per (平声 group id, character), derived from the corpus; ``ze_counts`` the
    same for 仄声 groups (仄韵 poems), which ``uses`` answers too but ``common``/``dominant`` never read."""

    def __init__(self, counts: dict[str, Counter[str]], meta: dict[str, Any] | None = None,
                 unlisted: dict[str, Counter[str]] | None = None,
                 ze_counts: dict[str, Counter[str]] | None = None) -> None:
        self.counts = counts
        self.ze_counts = ze_counts or {}  # 仄声 group id -> rhyme uses in 仄韵 poems
        self.meta = meta or {}
        self.unlisted = unlisted or {}  # char the 平水韵 list misses -> rhyme uses per group
        totals: Counter[str] = Counter()
        for group in counts.values():
            totals.update(group)
        self.totals = totals

    # -- queries --------------------------------------------------------------------------------
    def uses(self, ch: str, gid: str) -> int:
        """Rhyme uses of ``ch`` in group ``gid`` (平声 or 仄声)."""
        return (self.counts.get(gid) or self.ze_counts.get(gid) or Counter())[ch]

    def dominant(self, ch: str) -> str | None:
        """The group the corpus rhymes ``ch`` in most often (None if it never ends a rhyme line)."""
        best = max(self.counts, key=lambda g: self.counts[g][ch], default=None)
        return best if best is not None and self.counts[best][ch] > 0 else None

    def common(self, ch: str, gid: str) -> bool:
        """Whether ``ch`` rhymes in ``gid`` often enough for a reader to hear the rhyme."""
        n = self.uses(ch, gid)
        return n >= MIN_USES and n >= MIN_SHARE * self.totals[ch]

    def common_groups(self, ch: str, table: RhymeTable) -> frozenset[str]:
        """The table's 平声 groups of ``ch`` that are also common rhyme readings."""
        return frozenset(g for g in table.ping_groups(ch) if self.common(ch, g))

    # -- building -------------------------------------------------------------------------------
    @classmethod
    def derive(cls, poems: Iterable[dict[str, Any]], table: RhymeTable) -> RhymeUsage:
        """Count rhyme uses over prepared corpus records (``lines`` of a regular 诗)."""
        counts: dict[str, Counter[str]] = {g: Counter() for g in table.ping_group_ids()}
        ze_counts: dict[str, Counter[str]] = {}
        unlisted: dict[str, Counter[str]] = {}
        seen = skipped = ze_poems = 0
        for poem in poems:
            lines = poem["lines"]
            if len(lines) not in (4, 8):
                continue
            seen += 1
            rhymes = [line[-1] for line in lines[1::2]]
            missing = [ch for ch in rhymes if not table.groups(ch) and Tone.PING in table.tones(ch)]
            listed = [ch for ch in rhymes if table.groups(ch)]
            if missing and len(listed) >= 2:
                among = frozenset.intersection(*(table.ping_groups(ch) for ch in listed))
                if len(among) == 1:
                    for ch in missing:
                        unlisted.setdefault(ch, Counter()).update(among)
            shared = frozenset.intersection(*(table.ping_groups(ch) for ch in rhymes))
            if len(shared) != 1:
                skipped += 1
                ze = frozenset.intersection(*(table.groups(ch) - table.ping_groups(ch) for ch in rhymes))
                if not shared and len(ze) == 1:  # a 仄韵 poem
                    (gid,) = ze
                    ze_poems += 1
                    ze_counts.setdefault(gid, Counter()).update(
                        rhymes + [lines[0][-1]] * (gid in table.groups(lines[0][-1])))
                continue
            (gid,) = shared
            if gid in table.ping_groups(lines[0][-1]):
                rhymes.append(lines[0][-1])
            counts[gid].update(rhymes)
        meta = {"poems": seen, "skipped": skipped, "ze_poems": ze_poems, "min_uses": MIN_USES, "min_share": MIN_SHARE,
                "unlisted_rule": f">= {UNLISTED_MIN_USES} uses, >= {UNLISTED_MIN_SHARE:.0%} in one group"}
        return cls(counts, meta, unlisted, ze_counts)

    def unlisted_groups(self) -> dict[str, list[str]]:
        """平声 groups for characters the 平水韵 list misses, where the corpus rhymes them clearly."""
        out: dict[str, list[str]] = {}
        for ch, per_group in sorted(self.unlisted.items()):
            gid, n = per_group.most_common(1)[0]
            if n >= UNLISTED_MIN_USES and n >= UNLISTED_MIN_SHARE * sum(per_group.values()):
                out[ch] = [gid]
        return out

    def save(self, path: Path) -> None:
        data = {"meta": self.meta, "counts": {g: dict(c.most_common()) for g, c in self.counts.items() if c},
                "ze_counts": {g: dict(c.most_common()) for g, c in self.ze_counts.items() if c},
                "unlisted": self.unlisted_groups(),
                "unlisted_counts": {ch: dict(c) for ch, c in sorted(self.unlisted.items())}}
        path.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path = RHYME_USAGE_PATH) -> RhymeUsage:
        data = json.loads(path.read_text(encoding="utf-8"))
        unlisted = {ch: Counter(c) for ch, c in data.get("unlisted_counts", {}).items()}
        ze_counts = {g: Counter(c) for g, c in data.get("ze_counts", {}).items()}
        return cls({g: Counter(c) for g, c in data["counts"].items()}, data.get("meta"), unlisted, ze_counts)

    @classmethod
    def default(cls) -> RhymeUsage:
        """The table shipped with the package (``poetcore data tables`` rebuilds it)."""
        return _default()


@lru_cache(maxsize=1)
def _default() -> RhymeUsage:
    return RhymeUsage.load()
