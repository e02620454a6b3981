"""Which characters belong to one season, from the corpus: the decoder keeps a poem in one season.

Blind readers found our poems mixing seasons (``秋月长江…黄昏已尽春风过``): with the lexicon below,
19% of the shipped model's poems name two or more seasons against 6% of real 七绝/五律. The
lexicon is derived, not hand-listed (``derive``): among the prepared 诗 whose title names exactly
one of 春夏秋冬, a character belongs to season S when at least ``MIN_SHARE`` of its per-season
document rate falls in S and it occurs in at least ``MIN_POEMS`` such poems (柳 桃 莺 → 春,
簟 槐 榴 → 夏, 蛩 砧 → 秋, 炉 腊 冻 → 冬).

Most season words are two characters of no season each (东风 春, 西风 秋, 寒食 春, 重阳 秋, 五月 夏,
梅花 冬): blind readers' commonest fault after the character lexicon was exactly these. So the same
statistic, over the character pairs inside lines, gives ``words`` (at least ``MIN_WORD_POEMS`` poems,
counts smoothed by one per season so a pair seen a few times in the few 冬 poems does not pass).
And some characters belong to no one season but are out of place in one (``rare_in``: 梅 is winter,
spring and 梅雨 summer, but under 3% autumn; 菊 and 蝉 are hardly spring): under ``RARE_SHARE`` of
their per-season rate falls in that season, over at least ``MIN_RARE_POEMS`` poems.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

from poetcore.paths import asset_path

__all__ = ["MIN_POEMS", "MIN_RARE_POEMS", "MIN_SHARE", "MIN_WORD_POEMS", "RARE_SHARE", "SEASONS", "SEASONS_PATH",
           "SeasonLexicon"]

SEASONS = ("春", "夏", "秋", "冬")
SEASONS_PATH = asset_path("lexicon", "seasons.json")
MIN_SHARE = 0.6
MIN_POEMS = 30
MIN_WORD_POEMS = 20
RARE_SHARE = 0.07
MIN_RARE_POEMS = 60


class SeasonLexicon:
    """Character (and two-character word) -> the one season it evokes; the rest are absent."""

    def __init__(
        self, season_of: dict[str, str], meta: dict[str, Any] | None = None, words: dict[str, str] | None = None,
        rare_in: dict[str, str] | None = None,
    ) -> None:
        self.season_of = season_of
        self.words = words or {}
        self.rare_in = rare_in or {}  # character -> the seasons it is out of place in, e.g. 梅 -> "秋"
        self.meta = meta or {}

    def seasons_in(self, text: str) -> set[str]:
        found = {self.season_of[ch] for ch in text if ch in self.season_of}
        if self.words:
            found.update(self.words[w] for i in range(len(text) - 1) if (w := text[i : i + 2]) in self.words)
        return found

    def topic_season(self, topic: str) -> str | None:
        """The season a topic names, when it names exactly one (秋月 -> 秋; 春夏秋冬 -> None)."""
        found = self.seasons_in(topic)
        return next(iter(found)) if len(found) == 1 else None

    def clashes(self, topic: str, lines: Iterable[str]) -> bool:
        """Whether a poem (with its topic) evokes two or more seasons."""
        return len(self.seasons_in(topic).union(*(self.seasons_in(line) for line in lines))) >= 2

    @classmethod
    def derive(cls, poems: Iterable[dict[str, Any]]) -> SeasonLexicon:
        per_season: dict[str, Counter[str]] = {s: Counter() for s in SEASONS}
        pairs: dict[str, Counter[str]] = {s: Counter() for s in SEASONS}
        titled: Counter[str] = Counter()
        for poem in poems:
            named = {s for s in SEASONS if s in poem.get("title", "")}
            if len(named) != 1:
                continue
            (season,) = named
            titled[season] += 1
            per_season[season].update(set("".join(poem["lines"])))
            pairs[season].update({line[i : i + 2] for line in poem["lines"] for i in range(len(line) - 1)})
        season_of = _one_season(per_season, titled, MIN_POEMS, smoothing=0)
        words = {w: s for w, s in _one_season(pairs, titled, MIN_WORD_POEMS, smoothing=1).items()
                 if not any(ch in season_of for ch in w)}  # 柳絮 is spring by 柳 already
        rare_in: dict[str, str] = {}
        for ch in sorted(set().union(*per_season.values()) - set(season_of)):
            if sum(per_season[s][ch] for s in SEASONS) < MIN_RARE_POEMS:
                continue
            rate = {s: (per_season[s][ch] + 1) / titled[s] for s in SEASONS if titled[s]}
            if len(rate) == len(SEASONS) and (out := "".join(s for s in SEASONS if rate[s] < RARE_SHARE * sum(rate.values()))):
                rare_in[ch] = out
        meta = {"titled_poems": dict(titled), "min_share": MIN_SHARE, "min_poems": MIN_POEMS,
                "min_word_poems": MIN_WORD_POEMS, "rare_share": RARE_SHARE, "min_rare_poems": MIN_RARE_POEMS}
        return cls(season_of, meta, words, rare_in)

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        by_season = {s: "".join(sorted(ch for ch, t in self.season_of.items() if t == s)) for s in SEASONS}
        words = {s: " ".join(sorted(w for w, t in self.words.items() if t == s)) for s in SEASONS}
        rare = {s: "".join(sorted(ch for ch, out in self.rare_in.items() if s in out)) for s in SEASONS}
        body = {"meta": self.meta, "seasons": by_season, "words": words, "rare_in": rare}
        path.write_text(json.dumps(body, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path = SEASONS_PATH) -> SeasonLexicon:
        data = json.loads(path.read_text(encoding="utf-8"))
        words = {w: s for s, listed in data.get("words", {}).items() for w in listed.split()}
        rare_in: dict[str, str] = {}
        for season, chars in data.get("rare_in", {}).items():
            for ch in chars:
                rare_in[ch] = rare_in.get(ch, "") + season
        return cls({ch: s for s, chars in data["seasons"].items() for ch in chars}, data.get("meta"), words, rare_in)

    @classmethod
    def default(cls) -> SeasonLexicon:
        """The lexicon shipped with the package (``poetcore data tables`` rebuilds it)."""
        return _default()


def _one_season(counts: dict[str, Counter[str]], titled: Counter[str], min_poems: int, smoothing: int) -> dict[str, str]:
    """Items whose per-season document rate falls at least ``MIN_SHARE`` in one season."""
    found: dict[str, str] = {}
    for item in sorted(set().union(*counts.values())):
        if sum(counts[s][item] for s in SEASONS) < min_poems:
            continue
        rate = {s: (counts[s][item] + smoothing) / titled[s] for s in SEASONS if titled[s]}
        best = max(rate, key=lambda s: rate[s])
        if rate[best] >= MIN_SHARE * sum(rate.values()):
            found[item] = best
    return found


@lru_cache(maxsize=1)
def _default() -> SeasonLexicon:
    return SeasonLexicon.load()
