"""How famous each poem and each line is, from the package alone: the line index's order.

**Poems.** The package says which poems are famous in two ways: its own short collections
(唐诗三百首, 千家诗, 宋词三百首, 水墨唐诗: ``FAMOUS_COLLECTIONS``), and ``dist/rank/``, search-hit
counts per (author, title). The counts alone are a poor ranking (a generic title such as 九日 or
句 collects hits for any poem; 静夜思 ranks 985th by them), so a poem's score is a logistic model
of "this poem stands in one of the short collections", fitted on the 全唐诗/全宋诗/宋词 copies of
the poems those collections hold (``fit_poem_weights``; the fitted ``POEM_WEIGHTS`` are below)
from what is known of every poem:

- the hits per engine (log10; none: 0);
- its hits against its author's mean, and its place among its author's poems by hits (which of
  an author's poems people search for);
- how many of the author's poems the short collections hold (leaving this poem out), and how
  many poems the author has at all; how many poems share its title; its length;
- whether later poets quote its lines word for word (集句, 用典);
- whether it is a Tang poem, a Song poem or a 词.

A poem of a short collection scores at least what its copies in the big ones score (the
anthology's title may have no hits) and adds ``COLLECTION_BONUS`` per collection that holds it; a
poem of the school canon (``canon.tsv``, a reviewed list of about 250 poems) adds ``CANON_BONUS``.
The collections without ranks (诗经, 楚辞, 元曲 …) get a fixed prior (``COLLECTION_PRIORS``) and the
model's weights for quotation and length.
``poem fame = sigmoid(score)``, in (0, 1). `poem_kind` sorts poems into 唐诗, 宋诗, 词, 古诗 and 曲:
the model ranks within a kind well, across kinds it follows the collections' taste (mostly 唐诗),
so the built-in index takes each kind's best by quota (`poetcore.data.line_build.BUILTIN_SHARES`).

**Lines.** People know lines, not poems: all four lines of a famous 绝句, the opening and the
quoted couplets of a long 歌行 (在天愿作比翼鸟, not 钗擘黄金合分钿). A line's score is its poem's
(without the canon bonus for a line of a long canon poem that is not one of its key lines),
less ``LENGTH_PENALTY`` per doubling of the poem's length past eight lines (less for the opening
couplet, nothing for a line the canon names), plus ``ECHO_WEIGHT`` per log of the other poets
who wrote its couplet word for word, plus ``PRIMER_BONUS`` when a 蒙学 primer (增广贤文, 幼学琼林)
quotes it. ``line fame = sigmoid(score)``.

Torch-free; numpy only.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from poetcore.data.line_sources import RANK_ENGINES, CanonPoem, SourcePoem, load_canon
from poetcore.lines.index import SHORT_COLLECTIONS
from poetcore.text.variants import loose_key

__all__ = [
    "CANON_BONUS", "CANON_WHOLE", "COLLECTION_BONUS", "COLLECTION_PRIORS", "ECHO_WEIGHT", "FAMOUS_COLLECTIONS",
    "LENGTH_PENALTY", "POEM_FEATURES", "POEM_WEIGHTS", "PRIMER_BONUS", "Fame", "canon_lines", "compute_fame",
    "fit_poem_weights", "line_authors", "memberships", "poem_features", "poem_kind", "sigmoid", "training_set",
]

FAMOUS_COLLECTIONS = SHORT_COLLECTIONS
"""The package's own choices of famous poems (唐诗三百首, 千家诗, 宋词三百首, 水墨唐诗)."""

RANKED_COLLECTIONS = frozenset({"全唐诗", "全宋诗", "宋词"})
"""The big collections the model is fitted on (every poem has a rank entry or none)."""

POEM_FEATURES = (*(f"hits_{e}" for e in RANK_ENGINES), "hits_vs_author", "author_rank", "author_famous",
                 "author_poems", "title_shared", "length", "quoted", "tang_shi", "song_ci", "bias")
"""What `poem_features` computes per poem, in column order."""

POEM_WEIGHTS = (
    +0.1441,  # hits_baidu
    -0.1283,  # hits_google
    -0.1155,  # hits_bing
    +0.6366,  # hits_so360
    -0.0259,  # hits_bing_en
    +0.1772,  # hits_vs_author
    -0.1448,  # author_rank
    +0.6247,  # author_famous
    -0.1712,  # author_poems
    -0.2391,  # title_shared
    -0.1794,  # length
    +0.9377,  # quoted
    +0.9494,  # tang_shi
    +1.4974,  # song_ci
    -5.9835,  # bias
)
"""Logistic-model weights over `POEM_FEATURES` (raw, unscaled), fitted with `fit_poem_weights` on
chinese-poetry@2.0.1 (``python scripts/fit_line_fame.py``). Ranked by it, the top 5,000 of the 332,247
poems of 全唐诗, 全宋诗 and 宋词 hold 465 of the 948 that the short collections hold too, the top
20,000 hold 752 (the mean of the search hits alone: 124 and 397)."""

COLLECTION_BONUS = 1.5
"""Score added per short collection that holds the poem (logit units)."""

COLLECTION_PRIORS = {"南唐二主词": -1.5, "诗经": -3.0, "曹操诗集": -2.5, "楚辞": -4.0, "纳兰性德诗集": -3.5,
                     "花间集": -5.0, "元曲": -6.0}
"""The score of a poem of a collection without ranks (logit units), before its quotations and length
count (with the model's weights): 李煜's 词 and 诗经 are school texts, most of 花间集 and 元曲 are not."""

CANON_BONUS = 6.0
"""Score added to a poem of the school canon (``canon.tsv``) and to its known lines: they come first."""
CANON_WHOLE = {"词": 30}
"""A canon poem of this many lines or fewer (12 unless its kind is named) is known whole; of a longer
one, its key lines. A 词's lines are short: 水调歌头 is 24 of them, and people know it whole."""

LENGTH_PENALTY = 0.8
"""Per doubling of a poem's length past eight lines, for a line outside its opening couplet."""
OPENING_PENALTY = 0.3
"""The same for a line of the opening couplet."""
ECHO_WEIGHT = 1.0
"""Per log(1 + other poets who wrote the couplet's lines word for word)."""
PRIMER_BONUS = 2.0
"""For a line a 蒙学 primer quotes."""
AUTHOR_RANK_MISSING = 1000
"""The place among its author's poems given to a poem without hits."""
MAX_ECHO = 8
"""Lines written by more poets than this are sayings (人生天地间, 一日复一日), not quotations."""


def poem_kind(poem: SourcePoem) -> str:
    """唐诗, 宋诗, 词, 古诗 (诗经, 楚辞, 曹操) or 曲."""
    if poem.collection in ("宋词", "宋词三百首", "南唐二主词", "花间集", "纳兰性德诗集"):
        return "词"
    if poem.collection in ("诗经", "楚辞", "曹操诗集"):
        return "古诗"
    if poem.collection == "元曲":
        return "曲"
    return "唐诗" if poem.dynasty == "唐" else "宋诗"


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


@dataclass(frozen=True)
class Fame:
    """Fame per poem and per line of each poem, aligned with the poems given to `compute_fame`."""

    poems: np.ndarray  # (P,) poem fame in (0, 1)
    lines: list[np.ndarray]  # per poem, (lines,) line fame in (0, 1)
    collections: np.ndarray  # (P,) how many short collections hold the poem
    canon: np.ndarray  # (P,) whether the poem is of the school canon


def line_authors(poems: Sequence[SourcePoem]) -> dict[str, int]:
    """line -> how many distinct poets wrote it outside the short collections (1 for most)."""
    first: dict[str, str] = {}
    more: dict[str, set[str]] = {}
    famous = set(FAMOUS_COLLECTIONS)
    for p in poems:
        if p.collection in famous:
            continue
        for line in p.lines:
            who = first.setdefault(line, p.author)
            if who != p.author:
                more.setdefault(line, {who}).add(p.author)
    counts = dict.fromkeys(first, 1)
    counts.update((line, len(s)) for line, s in more.items())
    return counts


def _copies(poems: Sequence[SourcePoem]) -> dict[int, list[int]]:
    """For each poem of a short collection, its copies in the big collections (same author, most lines)."""
    by_line: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, p in enumerate(poems):
        if p.collection in RANKED_COLLECTIONS:
            for line in set(p.lines):
                by_line[(p.author, line)].append(i)
    out: dict[int, list[int]] = {}
    for i, p in enumerate(poems):
        if p.collection in FAMOUS_COLLECTIONS and p.lines:
            shared = Counter(k for line in set(p.lines) for k in by_line.get((p.author, line), ()))
            need = min(2, len(set(p.lines)))
            out[i] = [k for k, n in shared.items() if n >= need and n * 2 >= len(set(p.lines))]
    return out


def memberships(poems: Sequence[SourcePoem]) -> np.ndarray:
    """How many short collections hold each poem: those that hold most of its lines (at least two)."""
    where: dict[str, set[str]] = defaultdict(set)
    for p in poems:
        if p.collection in FAMOUS_COLLECTIONS:
            for line in p.lines:
                where[line].add(p.collection)
    out = np.zeros(len(poems))
    for i, p in enumerate(poems):
        if not p.lines:
            continue
        seen: Counter[str] = Counter(c for line in set(p.lines) for c in where.get(line, ()))
        need = min(2, len(set(p.lines)))
        out[i] = sum(1 for n in seen.values() if n >= need and n * 2 >= len(set(p.lines)))
    return out


def poem_features(poems: Sequence[SourcePoem], held: np.ndarray | None = None,
                  written: dict[str, int] | None = None) -> np.ndarray:
    """(P, len(POEM_FEATURES)) features of every poem (see the module docstring); ``held`` and
    ``written`` are `memberships` and `line_authors` when already computed."""
    members = memberships(poems) if held is None else held
    authors_of = line_authors(poems) if written is None else written
    famous_by_author: Counter[str] = Counter()
    poems_by_author: Counter[str] = Counter()
    titles: Counter[str] = Counter()
    hits_by_author: dict[str, list[float]] = defaultdict(list)
    for i, p in enumerate(poems):
        if p.collection in RANKED_COLLECTIONS:
            poems_by_author[p.author] += 1
            titles[p.title] += 1
            if p.hits is not None:
                hits_by_author[p.author].append(sum(p.hits[:4]) / 4)
            if members[i]:
                famous_by_author[p.author] += 1
    author_mean = {a: sum(v) / len(v) for a, v in hits_by_author.items()}
    place = np.full(len(poems), math.log1p(AUTHOR_RANK_MISSING))
    ranked_by_author: dict[str, list[tuple[float, int]]] = defaultdict(list)
    for i, p in enumerate(poems):
        if p.collection in RANKED_COLLECTIONS and p.hits is not None:
            ranked_by_author[p.author].append((-sum(p.hits[:4]) / 4, i))
    for entries in ranked_by_author.values():
        for k, (_h, i) in enumerate(sorted(entries)):
            place[i] = math.log1p(k)
    x = np.zeros((len(poems), len(POEM_FEATURES)))
    col = {name: k for k, name in enumerate(POEM_FEATURES)}
    for i, p in enumerate(poems):
        if p.hits is not None:
            x[i, :len(RANK_ENGINES)] = p.hits
            mean = sum(p.hits[:4]) / 4
            x[i, col["hits_vs_author"]] = mean - author_mean.get(p.author, mean)
        x[i, col["author_rank"]] = place[i]
        own = 1 if members[i] else 0
        x[i, col["author_famous"]] = math.log1p(max(0, famous_by_author[p.author] - own))
        x[i, col["author_poems"]] = math.log1p(poems_by_author[p.author])
        x[i, col["title_shared"]] = math.log1p(titles[p.title])
        x[i, col["length"]] = math.log(max(1, len(p.lines)))
        echo = max((min(authors_of.get(line, 1), MAX_ECHO + 1) - 1 for line in p.lines), default=0)
        x[i, col["quoted"]] = math.log1p(echo if echo < MAX_ECHO else 0)
        x[i, col["tang_shi"]] = float(p.dynasty == "唐" and p.collection not in ("宋词", "宋词三百首"))
        x[i, col["song_ci"]] = float(p.collection in ("宋词", "宋词三百首"))
        x[i, col["bias"]] = 1.0
    return x


def fit_poem_weights(x: np.ndarray, y: np.ndarray, l2: float = 1e-3, steps: int = 50) -> np.ndarray:
    """Logistic regression by Newton's method (L2 on the standardised features, not the bias);
    returns weights on the raw features, the bias last."""
    mu, sd = x[:, :-1].mean(0), x[:, :-1].std(0) + 1e-9
    z = np.column_stack([(x[:, :-1] - mu) / sd, np.ones(len(x))])
    w = np.zeros(z.shape[1])
    reg = np.full(len(w), l2)
    reg[-1] = 0.0
    for _ in range(steps):
        p = sigmoid(z @ w)
        grad = z.T @ (p - y) / len(y) + reg * w
        hess = (z * (p * (1 - p))[:, None]).T @ z / len(y) + np.diag(reg)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    raw = w[:-1] / sd
    return np.append(raw, w[-1] - float(raw @ mu))


def training_set(poems: Sequence[SourcePoem], x: np.ndarray, held: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The rows the weights are fitted on: the big collections' poems, labelled by whether a short
    collection holds them (``held``: `memberships`)."""
    rows = [i for i, p in enumerate(poems) if p.collection in RANKED_COLLECTIONS and p.lines]
    return x[rows], (held[rows] > 0).astype(float)


def _known_whole(poem: SourcePoem) -> bool:
    return len(poem.lines) <= CANON_WHOLE.get(poem_kind(poem), 12)


def canon_lines(poems: Sequence[SourcePoem], canon: Sequence[CanonPoem]) -> list[frozenset[int]]:
    """Per poem, the indices of its lines the canon says are known (empty: not a canon poem)."""
    entries: dict[str, list[CanonPoem]] = defaultdict(list)
    for entry in canon:
        entries[loose_key(entry.lines[0])].append(entry)
    out: list[frozenset[int]] = []
    for p in poems:
        keys = [loose_key(line) for line in p.lines]
        found = [e for k in keys for e in entries.get(k, ()) if e.author in ("", p.author)]
        if not found:
            out.append(frozenset())
        elif _known_whole(p):
            out.append(frozenset(range(len(p.lines))))
        else:
            wanted = {loose_key(x) for e in found for x in e.lines}
            out.append(frozenset(j for j, k in enumerate(keys) if k in wanted))
    return out


def compute_fame(poems: Sequence[SourcePoem], primer_lines: Iterable[str] = (),
                 weights: Sequence[float] = POEM_WEIGHTS, canon: Sequence[CanonPoem] | None = None) -> Fame:
    """Poem and line fame for ``poems`` (every poem of the package, for the statistics to hold);
    ``canon`` defaults to the shipped school canon (`load_canon`)."""
    known = canon_lines(poems, load_canon() if canon is None else canon)
    copies = _copies(poems)
    for i, others in copies.items():  # an anthology's copy of a canon poem is canon too (水墨唐诗's 山行)
        texts = {poems[k].lines[j] for k in others for j in known[k]}
        if texts and not known[i]:
            whole = _known_whole(poems[i])
            known[i] = frozenset(j for j, line in enumerate(poems[i].lines) if whole or line in texts)
    members = memberships(poems)
    authors_of = line_authors(poems)
    x = poem_features(poems, members, authors_of)
    score = x @ np.asarray(weights, dtype=float)
    for i, others in copies.items():  # the anthology's copy may lack the hits its 全唐诗 copy has
        score[i] = max([score[i], *(score[k] for k in others)])
    col = {name: k for k, name in enumerate(POEM_FEATURES)}
    for i, p in enumerate(poems):
        if p.collection in COLLECTION_PRIORS:
            score[i] = (COLLECTION_PRIORS[p.collection] + weights[col["quoted"]] * x[i, col["quoted"]]
                        + weights[col["length"]] * x[i, col["length"]])
    score += COLLECTION_BONUS * members
    in_canon = np.array([bool(k) for k in known])
    score += CANON_BONUS * in_canon
    quoted = frozenset(primer_lines)
    line_fame: list[np.ndarray] = []
    for i, p in enumerate(poems):
        n = len(p.lines)
        excess = math.log2(n / 8) if n > 8 else 0.0
        scores = np.empty(n)
        for j, line in enumerate(p.lines):
            mate = p.lines[j ^ 1] if (j ^ 1) < n else line
            echo = max(min(authors_of.get(line, 1), MAX_ECHO + 1), min(authors_of.get(mate, 1), MAX_ECHO + 1)) - 1
            known_line = j in known[i]  # named by the canon: known, however long the poem
            s = score[i] - (0.0 if known_line else OPENING_PENALTY if j < 2 else LENGTH_PENALTY) * excess
            s += ECHO_WEIGHT * math.log1p(echo if echo < MAX_ECHO else 0)
            if line in quoted:
                s += PRIMER_BONUS
            if in_canon[i] and not known_line:  # a long canon poem: only its key lines are known
                s -= CANON_BONUS
            scores[j] = s
        line_fame.append(sigmoid(scores))
    return Fame(sigmoid(score), line_fame, members, in_canon)
