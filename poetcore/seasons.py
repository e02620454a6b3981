"""Which characters belong to one season, from the corpus: the decoder keeps a poem in one season.

Blind readers found our poems mixing seasons (``秋月长江…黄昏已尽春风过``): with the lexicon below,
19% of the shipped model's poems name two or more seasons against 6% of real 七绝/五律. The
lexicon is derived, not hand-listed (``derive``): among the prepared 诗 whose title names exactly
one of 春夏秋冬, a character belongs to season S when at least ``MIN_SHARE`` of its per-season
document rate falls in S and it occurs in at least ``MIN_POEMS`` such poems (柳 桃 莺 → 春,
簟 槐 榴 → 夏, 蛩 砧 → 秋, 炉 腊 冻 → 冬).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

__all__ = ["MIN_POEMS", "MIN_SHARE", "SEASONS", "SEASONS_PATH", "SeasonLexicon"]

SEASONS = ("春", "夏", "秋", "冬")
SEASONS_PATH = Path(__file__).parent / "assets" / "lexicon" / "seasons.json"
MIN_SHARE = 0.6
MIN_POEMS = 30


class SeasonLexicon:
    """Character -> the one season it evokes (characters of no particular season are absent)."""

    def __init__(self, season_of: dict[str, str], meta: dict[str, Any] | None = None) -> None:
        self.season_of = season_of
        self.meta = meta or {}

    def seasons_in(self, text: str) -> set[str]:
        return {self.season_of[ch] for ch in text if ch in self.season_of}

    def topic_season(self, topic: str) -> str | None:
        """The season a topic names, when it names exactly one (秋月 -> 秋; 春夏秋冬 -> None)."""
        found = self.seasons_in(topic)
        return next(iter(found)) if len(found) == 1 else None

    def clashes(self, topic: str, lines: Iterable[str]) -> bool:
        """Whether a poem (with its topic) evokes two or more seasons."""
        return len(self.seasons_in(topic + "".join(lines))) >= 2

    @classmethod
    def derive(cls, poems: Iterable[dict[str, Any]]) -> SeasonLexicon:
        per_season: dict[str, Counter[str]] = {s: Counter() for s in SEASONS}
        titled: Counter[str] = Counter()
        for poem in poems:
            named = {s for s in SEASONS if s in poem.get("title", "")}
            if len(named) != 1:
                continue
            (season,) = named
            titled[season] += 1
            per_season[season].update(set("".join(poem["lines"])))
        season_of: dict[str, str] = {}
        for ch in sorted(set().union(*per_season.values())):
            if sum(per_season[s][ch] for s in SEASONS) < MIN_POEMS:
                continue
            rate = {s: per_season[s][ch] / titled[s] for s in SEASONS if titled[s]}
            best = max(rate, key=lambda s: rate[s])
            if rate[best] >= MIN_SHARE * sum(rate.values()):
                season_of[ch] = best
        meta = {"titled_poems": dict(titled), "min_share": MIN_SHARE, "min_poems": MIN_POEMS}
        return cls(season_of, meta)

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        by_season = {s: "".join(sorted(ch for ch, t in self.season_of.items() if t == s)) for s in SEASONS}
        path.write_text(json.dumps({"meta": self.meta, "seasons": by_season}, ensure_ascii=False, indent=1) + "\n",
                        encoding="utf-8")

    @classmethod
    def load(cls, path: Path = SEASONS_PATH) -> SeasonLexicon:
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls({ch: s for s, chars in data["seasons"].items() for ch in chars}, data.get("meta"))

    @classmethod
    def default(cls) -> SeasonLexicon:
        """The lexicon shipped with the package (``poetcore data tables`` rebuilds it)."""
        return _default()


@lru_cache(maxsize=1)
def _default() -> SeasonLexicon:
    return SeasonLexicon.load()
