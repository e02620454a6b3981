"""Reading every verse collection of ``chinese-poetry@2.0.1`` for the line index.

Prose (论语, 四书五经, 幽梦影, the 蒙学 primers) is left out. Each poem comes with its collection,
dynasty, author, title and a fame score:

- membership in 唐诗三百首, 千家诗 or 宋词三百首 counts most (``ANTHOLOGY_FAME``);
- then the search-hit counts in ``dist/rank/`` (baidu, google, bing, so360), as a mean of log10.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from poetcore.text.chars import to_simplified
from poetcore.data.clean import PLACEHOLDERS, clean_title
from poetcore.data.package import iter_package_json
from poetcore.lines.schema import MAX_LINE, MIN_LINE
from poetcore.text.normalize import normalize_line

__all__ = ["ANTHOLOGY_FILES", "ANTHOLOGY_FAME", "SourcePoem", "iter_source_poems", "poem_lines"]

ANTHOLOGY_FAME = 10.0
"""Fame added for a poem in one of the three famous anthologies: more than any search-hit score."""

ANTHOLOGY_FILES = frozenset({"songci/宋词三百首.json", "mengxue/tangshisanbaishou.json", "mengxue/qianjiashi.json"})
"""宋词三百首, 唐诗三百首 and 千家诗: the small index that ships inside the package, and a fame bonus."""

_NOTE_RE = re.compile(r"[（(〖【\[［{｛〔][^）)〗】\]］}｝〕]*[）)〗】\]］}｝〕]")
_SEGMENT_RE = re.compile(r"[，。！？；：、,.!?;:\s\u3000·・/]+")
_DYNASTY_PREFIX_RE = re.compile(r"^[（(]([^）)]+)[）)]\s*")
_HAN_DYNASTY_CHUCI = frozenset({"屈原", "宋玉", "景差"})  # the rest of 楚辞 is by Han authors
_RANK_ENGINES = ("baidu", "google", "bing", "so360")


@dataclass(frozen=True)
class SourcePoem:
    collection: str
    dynasty: str
    author: str
    title: str
    lines: tuple[str, ...]  # normalised verse lines, in order
    fame: float


def poem_lines(paragraphs: list[str]) -> tuple[str, ...]:
    """Normalised lines of a poem: notes removed, split at punctuation, lines with □ dropped."""
    out: list[str] = []
    for para in paragraphs:
        if not isinstance(para, str):
            continue
        for segment in _SEGMENT_RE.split(_NOTE_RE.sub("", para)):
            if not segment or any(ch in PLACEHOLDERS for ch in segment):
                continue
            line = normalize_line(segment)
            if MIN_LINE <= len(line) <= MAX_LINE:
                out.append(line)
    return tuple(out)


def _rank_score(entry: dict[str, Any] | None) -> float:
    if not entry:
        return 0.0
    hits = [float(entry[k]) for k in _RANK_ENGINES if isinstance(entry.get(k), int | float) and entry[k] >= 0]
    return sum(math.log10(1 + h) for h in hits) / len(hits) / 10 if hits else 0.0


def _people(author: Any) -> str:
    return to_simplified(str(author or "佚名")).strip() or "佚名"


# --------------------------------------------------------------------------- reading the package
_POET_RE = re.compile(r"quantangshi/poet\.(tang|song)\.(\d+)\.json")
_CI_RE = re.compile(r"songci/ci\.song\.(\d+)\.json")
_RANK_RE = re.compile(r"rank/(poet|ci)/(?:poet|ci)\.(tang|song)\.rank\.(\d+)\.json")
_OTHER = {
    "songci/宋词三百首.json", "shijing/shijing.json", "chuci/chuci.json", "yuanqu/yuanqu.json",
    "caocaoshiji/caocao.json", "nalanxingde/纳兰性德诗集.json", "wudaishici/nantang/poetrys.json",
    "mengxue/tangshisanbaishou.json", "mengxue/qianjiashi.json",
}


def _wanted(builtin_only: bool) -> Callable[[str], bool]:
    if builtin_only:
        return lambda n: n in ANTHOLOGY_FILES

    def wanted(name: str) -> bool:
        return bool(name in _OTHER or _POET_RE.fullmatch(name) or _CI_RE.fullmatch(name) or _RANK_RE.fullmatch(name)
                    or (name.startswith("wudaishici/huajianji/") and "preface" not in name))
    return wanted


def iter_source_poems(path: Path, *, builtin_only: bool = False) -> Iterator[SourcePoem]:
    """Every verse poem of the package at ``path`` (tarball or folder), famous anthologies first.

    Ranks are joined by (author, title) in the source's own characters, so rank files are read
    first; the tarball is therefore read in two passes (ranks, then poems). The famous anthologies
    get their ranks too, so the most searched-for of them come first.
    """
    ranks: dict[tuple[str, str, str], dict[str, Any]] = {}
    for name, data in iter_package_json(path, lambda n: bool(_RANK_RE.fullmatch(n))):
        kind = "ci" if name.startswith("rank/ci/") else "poet"
        for e in data if isinstance(data, list) else []:
            ranks[(kind, str(e.get("author")), str(e.get("rhythmic") if kind == "ci" else e.get("title")))] = e
    later: list[SourcePoem] = []
    for name, data in iter_package_json(path, _wanted(builtin_only)):
        if _RANK_RE.fullmatch(name):
            continue
        famous = name in ANTHOLOGY_FILES
        for poem in _read(name, data, ranks):
            if famous:
                yield poem
            else:
                later.append(poem)
    yield from later


def _read(name: str, data: Any, ranks: dict[tuple[str, str, str], dict[str, Any]]) -> Iterator[SourcePoem]:
    items = data if isinstance(data, list) else []
    if m := _POET_RE.fullmatch(name):
        dynasty, collection = ("唐", "全唐诗") if m[1] == "tang" else ("宋", "全宋诗")
        for p in items:
            fame = _rank_score(ranks.get(("poet", str(p.get("author")), str(p.get("title")))))
            yield _poem(collection, dynasty, p.get("author"), p.get("title"), p.get("paragraphs"), fame)
    elif _CI_RE.fullmatch(name):
        for p in items:
            fame = _rank_score(ranks.get(("ci", str(p.get("author")), str(p.get("rhythmic")))))
            yield _poem("宋词", "宋", p.get("author"), p.get("rhythmic"), p.get("paragraphs"), fame)
    elif name == "songci/宋词三百首.json":
        for p in items:
            fame = ANTHOLOGY_FAME + _rank_score(ranks.get(("ci", str(p.get("author")), str(p.get("rhythmic")))))
            yield _poem("宋词三百首", "宋", p.get("author"), p.get("rhythmic"), p.get("paragraphs"), fame)
    elif name.startswith("mengxue/"):
        collection = "唐诗三百首" if "tangshi" in name else "千家诗"
        for group in (data.get("content") or []) if isinstance(data, dict) else []:
            for p in group.get("content") or []:
                author, dynasty = str(p.get("author") or ""), "唐"
                if m2 := _DYNASTY_PREFIX_RE.match(author):
                    dynasty, author = to_simplified(m2[1]).strip() or "唐", author[m2.end():]
                title = str(p.get("chapter") or "")
                fame = ANTHOLOGY_FAME + _rank_score(ranks.get(("poet", author, title)))
                part = str(p.get("subchapter") or "")
                if part and len(part) <= 4:  # 其一, 其二 …; a longer one is an alternative title
                    title = f"{title} {part}"
                yield _poem(collection, dynasty, author, title, p.get("paragraphs"), fame)
    elif name.startswith("wudaishici/"):
        for p in items:
            yield _poem("五代诗词", "五代", p.get("author"), p.get("title") or p.get("rhythmic"), p.get("paragraphs"), 0.0)
    elif name == "shijing/shijing.json":
        for p in items:
            title = f"诗经·{p.get('section') or p.get('chapter') or ''}·{p.get('title') or ''}".replace("··", "·")
            yield _poem("诗经", "先秦", "佚名", title, p.get("content"), 0.05)
    elif name == "chuci/chuci.json":
        for p in items:
            author = _people(p.get("author"))
            yield _poem("楚辞", "先秦" if author in _HAN_DYNASTY_CHUCI else "汉", author,
                        f"楚辞·{p.get('title') or ''}", p.get("content"), 0.05)
    elif name == "yuanqu/yuanqu.json":
        for p in items:
            yield _poem("元曲", "元", p.get("author"), p.get("title"), p.get("paragraphs"), 0.0)
    elif name == "caocaoshiji/caocao.json":
        for p in items:
            yield _poem("曹操诗集", "汉", "曹操", p.get("title"), p.get("paragraphs"), 0.05)
    elif name == "nalanxingde/纳兰性德诗集.json":
        for p in items:
            yield _poem("纳兰性德诗集", "清", p.get("author") or "纳兰性德", p.get("title"), p.get("para"), 0.05)


def _poem(collection: str, dynasty: str, author: Any, title: Any, paragraphs: Any, fame: float) -> SourcePoem:
    paras = paragraphs if isinstance(paragraphs, list) else []
    return SourcePoem(collection, dynasty, _people(author), clean_title(str(title or "无题")) or "无题",
                      poem_lines(paras), fame)
