"""Reading every verse collection of ``chinese-poetry@2.0.1`` for the line index.

Prose (论语, 四书五经, 幽梦影, the 蒙学 primers) is left out. Each poem comes with its collection,
dynasty, author, title, its lines and what the package says of its fame: the search-hit counts in
``dist/rank/`` (``hits``). How famous a poem and each of its lines is, is `poetcore.data.line_fame`'s
business.

Lines are split at punctuation, except at the 顿号 、, which in a 词 marks the pause after a 领字
inside one line (杨柳岸、晓风残月): the line is kept whole, and its parts of four characters or more
find it too (``aliases``). The reviewed corrections of famous lines (`poetcore/assets/lines/
corrections.tsv`, `load_corrections`) are applied here; the school canon (``canon.tsv``,
`load_canon`) and the verse the 蒙学 primers quote (`primer_lines`) are read here for the fame.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from poetcore.data.clean import PLACEHOLDERS, clean_title
from poetcore.data.package import iter_package_json
from poetcore.lines.schema import MAX_LINE, MIN_LINE
from poetcore.paths import asset_path
from poetcore.text.chars import to_simplified
from poetcore.text.normalize import normalize_line

__all__ = [
    "ANTHOLOGY_FILES", "CANON_PATH", "CI_AUTHOR_FIXES", "CORRECTIONS_PATH", "PRIMER_FILES", "RANK_ENGINES",
    "CanonPoem", "Correction", "SourcePoem", "iter_source_poems", "load_canon", "load_corrections", "poem_lines",
    "primer_lines", "split_lines",
]

ANTHOLOGY_FILES = frozenset({
    "songci/宋词三百首.json", "mengxue/tangshisanbaishou.json", "mengxue/qianjiashi.json",
    "shuimotangshi/shuimotangshi.json",
})
"""宋词三百首, 唐诗三百首, 千家诗 and 水墨唐诗: the package's own choices of famous poems."""

RANK_ENGINES = ("baidu", "google", "bing", "so360", "bing_en")
"""The search engines of ``dist/rank/``, in the order of ``SourcePoem.hits``."""

CORRECTIONS_PATH = asset_path("lines", "corrections.tsv")
CANON_PATH = asset_path("lines", "canon.tsv")

PRIMER_FILES = frozenset({"mengxue/zengguangxianwen.json", "mengxue/youxueqionglin.json"})
"""增广贤文 and 幼学琼林: prose primers that quote verse lines (一举成名天下知, 火树银花合)."""

CI_AUTHOR_FIXES: dict[tuple[str, str], str] = {
    ("张", "幽梦初回"): "张镃",  # 宴山亭
    ("张", "月洗高梧"): "张镃",  # 满庭芳·促织儿
    ("韩", "频听银签"): "韩疁",  # 高阳台·除夜
}
"""宋词 authors whose names the package cut short, made whole: (its author, the poem's first four
characters) -> the name. The package's 宋词 (its 宋词三百首 as well) lost the characters its source could
not encode, 镃 and 疁 among them, so 张镃 and 韩疁 stand there as 张 and 韩. Checked by hand against
《宋词三百首》; every other one-character 宋词 author is shown with □ for what is missing (`_ci_author`)."""

_NOTE_RE = re.compile(r"[（(〖【\[［{｛〔][^）)〗】\]］}｝〕]*[）)〗】\]］}｝〕]")
_SEGMENT_RE = re.compile(r"[，。！？；：,.!?;:\s\u3000·・/]+")
_DYNASTY_PREFIX_RE = re.compile(r"^[（(]([^）)]+)[）)]\s*")
_HAN_DYNASTY_CHUCI = frozenset({"屈原", "宋玉", "景差"})  # the rest of 楚辞 is by Han authors
_PAUSE_RE = re.compile(r"[、]+")
_PRIMER_SEGMENT_RE = re.compile(r"[，。！？；：、,.!?;:\s\u3000·・/“”‘’「」『』（）()]+")


@dataclass(frozen=True)
class SourcePoem:
    collection: str
    dynasty: str
    author: str
    title: str
    lines: tuple[str, ...]  # normalised verse lines, in order
    hits: tuple[float, ...] | None = None  # log10(1 + search hits) per RANK_ENGINES; None: no rank entry
    aliases: tuple[tuple[str, int], ...] = ()  # (another text, the index of the line it finds)


@dataclass(frozen=True)
class Correction:
    """One reviewed correction of a famous line (a row of ``corrections.tsv``)."""

    author: str
    title: str  # for the reader of the file; matching is by author and line
    corpus: str  # the line as the package has it (normalised)
    line: str  # the line as it is known
    kind: str  # "slip": the package's copying error, gone; "reading": another edition's text, still found
    why: str


@dataclass(frozen=True)
class CanonPoem:
    """A poem of the school canon (a row of ``canon.tsv``)."""

    author: str  # "": any author
    title: str
    lines: tuple[str, ...]  # its key lines, normalised; the first finds the poem


def load_canon(path: Path = CANON_PATH) -> list[CanonPoem]:
    """The school canon, in the file's order."""
    out: list[CanonPoem] = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not raw.strip() or raw.startswith("#"):
            continue
        fields = raw.split("\t")
        lines = tuple(normalize_line(x) for x in fields[2].split("/")) if len(fields) == 3 else ()
        if not lines or not all(MIN_LINE <= len(x) <= MAX_LINE for x in lines):
            raise ValueError(f"{path}:{number}: want author, title, key lines (/-separated, {MIN_LINE} to "
                             f"{MAX_LINE} characters each); got {raw!r}")
        out.append(CanonPoem(fields[0].strip(), fields[1].strip(), lines))
    return out


def split_lines(paragraphs: list[Any]) -> tuple[tuple[str, ...], tuple[tuple[str, int], ...]]:
    """A poem's normalised lines (notes removed, split at punctuation, lines with □ dropped) and the
    aliases of lines held together across a 、 (their parts of ``MIN_LINE`` characters or more)."""
    out: list[str] = []
    aliases: list[tuple[str, int]] = []
    for para in paragraphs:
        if not isinstance(para, str):
            continue
        for segment in _SEGMENT_RE.split(_NOTE_RE.sub("", para)):
            if not segment or any(ch in PLACEHOLDERS for ch in segment):
                continue
            parts = [x for x in (normalize_line(x) for x in _PAUSE_RE.split(segment)) if x]
            line = "".join(parts)
            if len(parts) > 1 and len(line) > MAX_LINE:  # too long as one line: its parts are the lines
                out.extend(x for x in parts if MIN_LINE <= len(x) <= MAX_LINE)
            elif MIN_LINE <= len(line) <= MAX_LINE:
                if len(parts) > 1:
                    aliases.extend((x, len(out)) for x in parts if len(x) >= MIN_LINE)
                out.append(line)
    return tuple(out), tuple(aliases)


def poem_lines(paragraphs: list[Any]) -> tuple[str, ...]:
    """Normalised lines of a poem (`split_lines` without the aliases)."""
    return split_lines(paragraphs)[0]


def _hits(entry: dict[str, Any] | None) -> tuple[float, ...] | None:
    if not entry:
        return None
    return tuple(math.log10(1 + float(entry[k])) if isinstance(entry.get(k), int | float) and entry[k] >= 0 else 0.0
                 for k in RANK_ENGINES)


def load_corrections(path: Path = CORRECTIONS_PATH) -> dict[tuple[str, str], Correction]:
    """The reviewed corrections, by (author, the line as the package has it)."""
    out: dict[tuple[str, str], Correction] = {}
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not raw.strip() or raw.startswith("#"):
            continue
        fields = raw.split("\t")
        if len(fields) != 6 or fields[4] not in ("slip", "reading"):
            raise ValueError(f"{path}:{number}: want author, title, corpus line, line, slip|reading, why; got {raw!r}")
        author, title, corpus, line, kind, why = (f.strip() for f in fields)
        if normalize_line(corpus) != corpus or normalize_line(line) != line or len(corpus) != len(line):
            raise ValueError(f"{path}:{number}: the lines must be normalised Han text of one length: {raw!r}")
        out[(author, corpus)] = Correction(author, title, corpus, line, kind, why)
    return out


def _people(author: Any) -> str:
    return to_simplified(str(author or "佚名")).strip() or "佚名"


def _ci_author(author: Any, paragraphs: Any) -> str:
    """A 宋词 author: a bare surname is a name cut short (`CI_AUTHOR_FIXES`), never a real one."""
    name = _people(author)
    if len(name) != 1:
        return name
    lines = poem_lines(paragraphs if isinstance(paragraphs, list) else [])
    return CI_AUTHOR_FIXES.get((name, lines[0][:4] if lines else ""), f"{name}□")


# --------------------------------------------------------------------------- reading the package
_POET_RE = re.compile(r"quantangshi/poet\.(tang|song)\.(\d+)\.json")
_CI_RE = re.compile(r"songci/ci\.song\.(\d+)\.json")
_RANK_RE = re.compile(r"rank/(poet|ci)/(?:poet|ci)\.(tang|song)\.rank\.(\d+)\.json")
_OTHER = ANTHOLOGY_FILES | {
    "shijing/shijing.json", "chuci/chuci.json", "yuanqu/yuanqu.json", "caocaoshiji/caocao.json",
    "nalanxingde/纳兰性德诗集.json", "wudaishici/nantang/poetrys.json",
}


def _wanted(name: str) -> bool:
    return bool(name in _OTHER or _POET_RE.fullmatch(name) or _CI_RE.fullmatch(name)
                or (name.startswith("wudaishici/huajianji/") and "preface" not in name))


def iter_source_poems(path: Path, *, corrections: dict[tuple[str, str], Correction] | None = None
                      ) -> Iterator[SourcePoem]:
    """Every verse poem of the package at ``path`` (tarball or folder), famous anthologies first.

    Ranks are joined by (author, title) in the source's own characters, so rank files are read
    first; the tarball is therefore read in two passes (ranks, then poems). The famous anthologies
    get their ranks too. ``corrections`` defaults to the reviewed list (`load_corrections`).
    """
    fixes = load_corrections() if corrections is None else corrections
    ranks: dict[tuple[str, str, str], dict[str, Any]] = {}
    for name, data in iter_package_json(path, lambda n: bool(_RANK_RE.fullmatch(n))):
        kind = "ci" if name.startswith("rank/ci/") else "poet"
        for e in data if isinstance(data, list) else []:
            ranks[(kind, str(e.get("author")), str(e.get("rhythmic") if kind == "ci" else e.get("title")))] = e
    later: list[SourcePoem] = []
    for name, data in iter_package_json(path, _wanted):
        famous = name in ANTHOLOGY_FILES
        for poem in _read(name, data, ranks):
            poem = _corrected(poem, fixes) if fixes else poem
            if famous:
                yield poem
            else:
                later.append(poem)
    yield from later


def primer_lines(path: Path) -> frozenset[str]:
    """The normalised segments (``MIN_LINE`` characters or more) of the primers that quote verse."""
    out: set[str] = set()

    def walk(node: Any) -> Iterator[str]:
        if isinstance(node, str):
            yield node
        elif isinstance(node, list):
            for item in node:
                yield from walk(item)
        elif isinstance(node, dict):
            for key in ("content", "paragraphs"):
                yield from walk(node.get(key))

    for _name, data in iter_package_json(path, lambda n: n in PRIMER_FILES):
        for text in walk(data):
            out.update(seg for seg in map(normalize_line, _PRIMER_SEGMENT_RE.split(text)) if len(seg) >= MIN_LINE)
    return frozenset(out)


def _corrected(poem: SourcePoem, fixes: dict[tuple[str, str], Correction]) -> SourcePoem:
    """``poem`` with the reviewed corrections of its lines: a slip is gone, a reading still finds the line."""
    lines = list(poem.lines)
    aliases = list(poem.aliases)
    for i, line in enumerate(poem.lines):
        fix = fixes.get((poem.author, line))
        if fix is None:
            continue
        lines[i] = fix.line
        if fix.kind == "reading":
            aliases.append((fix.corpus, i))
    return poem if lines == list(poem.lines) else replace(poem, lines=tuple(lines), aliases=tuple(aliases))


def _read(name: str, data: Any, ranks: dict[tuple[str, str, str], dict[str, Any]]) -> Iterator[SourcePoem]:
    items = data if isinstance(data, list) else []
    if m := _POET_RE.fullmatch(name):
        dynasty, collection = ("唐", "全唐诗") if m[1] == "tang" else ("宋", "全宋诗")
        for p in items:
            hits = _hits(ranks.get(("poet", str(p.get("author")), str(p.get("title")))))
            yield _poem(collection, dynasty, p.get("author"), p.get("title"), p.get("paragraphs"), hits)
    elif _CI_RE.fullmatch(name):
        for p in items:
            hits = _hits(ranks.get(("ci", str(p.get("author")), str(p.get("rhythmic")))))
            yield _poem("宋词", "宋", _ci_author(p.get("author"), p.get("paragraphs")), p.get("rhythmic"),
                        p.get("paragraphs"), hits)
    elif name == "songci/宋词三百首.json":
        for p in items:
            hits = _hits(ranks.get(("ci", str(p.get("author")), str(p.get("rhythmic")))))
            yield _poem("宋词三百首", "宋", _ci_author(p.get("author"), p.get("paragraphs")), p.get("rhythmic"),
                        p.get("paragraphs"), hits)
    elif name == "shuimotangshi/shuimotangshi.json":
        for p in items:
            hits = _hits(ranks.get(("poet", str(p.get("author")), str(p.get("title")))))
            yield _poem("水墨唐诗", "唐", p.get("author"), p.get("title"), p.get("paragraphs"), hits)
    elif name.startswith("mengxue/"):
        collection = "唐诗三百首" if "tangshi" in name else "千家诗"
        for group in (data.get("content") or []) if isinstance(data, dict) else []:
            for p in group.get("content") or []:
                author, dynasty = str(p.get("author") or ""), "唐"
                if m2 := _DYNASTY_PREFIX_RE.match(author):
                    dynasty, author = to_simplified(m2[1]).strip() or "唐", author[m2.end():]
                title = str(p.get("chapter") or "")
                hits = _hits(ranks.get(("poet", author, title)))
                part = str(p.get("subchapter") or "")
                if part and len(part) <= 4:  # 其一, 其二 …; a longer one is an alternative title
                    title = f"{title} {part}"
                yield _poem(collection, dynasty, author, title, p.get("paragraphs"), hits)
    elif name.startswith("wudaishici/"):
        collection = "南唐二主词" if "nantang" in name else "花间集"
        for p in items:
            yield _poem(collection, "五代", p.get("author"), p.get("rhythmic") or p.get("title"), p.get("paragraphs"))
    elif name == "shijing/shijing.json":
        for p in items:
            title = f"诗经·{p.get('section') or p.get('chapter') or ''}·{p.get('title') or ''}".replace("··", "·")
            yield _poem("诗经", "先秦", "佚名", title, p.get("content"))
    elif name == "chuci/chuci.json":
        for p in items:
            author = _people(p.get("author"))
            yield _poem("楚辞", "先秦" if author in _HAN_DYNASTY_CHUCI else "汉", author,
                        f"楚辞·{p.get('title') or ''}", p.get("content"))
    elif name == "yuanqu/yuanqu.json":
        for p in items:
            yield _poem("元曲", "元", p.get("author"), p.get("title"), p.get("paragraphs"))
    elif name == "caocaoshiji/caocao.json":
        for p in items:
            yield _poem("曹操诗集", "汉", "曹操", p.get("title"), p.get("paragraphs"))
    elif name == "nalanxingde/纳兰性德诗集.json":
        for p in items:
            yield _poem("纳兰性德诗集", "清", p.get("author") or "纳兰性德", p.get("title"), p.get("para"))


def _poem(collection: str, dynasty: str, author: Any, title: Any, paragraphs: Any,
          hits: tuple[float, ...] | None = None) -> SourcePoem:
    lines, aliases = split_lines(paragraphs if isinstance(paragraphs, list) else [])
    return SourcePoem(collection, dynasty, _people(author), clean_title(str(title or "无题")) or "无题",
                      lines, hits, aliases)
