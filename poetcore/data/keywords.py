"""Topic keywords for each poem: the conditioning labels users type (秋月, 送别, 边塞 ...).

Method (version `KEYWORD_METHOD`), and why:

* Titles are noisy ("和张舍人夜直", "次韵子由...") and mostly name occasions and people,
  while users ask for images and themes. So keywords come mainly from the *body*,
  and a title word only counts when it is also a corpus word and at least one of its
  characters occurs in the body (this keeps names and offices out).
* Lexicon: two-character words mined from the corpus itself, not a modern
  segmenter (jieba is trained on modern text). A bigram inside one line (never across
  a line break) becomes a word when it is frequent (`min_count`), its characters are
  associated (PMI >= `min_pmi` bits), it has no function character (不 之 何 我 一 ...),
  and it is not so common that it says nothing about the topic (`max_df_share`).
* Per poem, lexicon words are scored by TF-IDF with a title bonus; the best are
  taken greedily, skipping words that share a character with one already taken so
  the 3 slots carry 3 different ideas.
* Curated themes (送别 边塞 思乡 怀古 闺怨 田园 登高 咏物, and the seasons 春 夏 秋 冬)
  cover what users ask for but poems rarely spell out. Each is a small explicit
  trigger table (title hit = 2 points, strong body word = 2, weak = 1; >= 2 assigns),
  so its precision can be checked by reading the table and the sample report.
* Every keyword must have at least one of its characters in the body or title:
  users type topics and the model must learn topics that show up in the text.

Measured on the full corpus (manifest `keywords`): coverage, mean per poem, share of
keyword chars found in the body, share of keywords that are title words, top words,
and a random sample in `keywords_sample.md` for a human precision check.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

KEYWORD_METHOD = "lexicon-pmi-tfidf+themes/v4"
MAX_KEYWORDS = 3
TITLE_BONUS = 1.5

STOP_CHARS = frozenset(
    "不无何之其此彼而以于与为也乎哉矣焉者所自相亦又已犹尚更还复皆俱莫勿未岂谁几如若似是非在有得能可将欲应须"
    "便即乃却只但我吾余君尔汝他一二三四五六七八九十百千万两半个些兮耶曾同共各每每诸凡然则故虽因由从向到"
    "了着过来去上下中里时且直都总方才仍偏最甚颇稍渐忽遂再元恰纵"
)
"""Function and very general characters: a word containing one is never a topic keyword."""


class _PoemLike(Protocol):
    title: str
    author: str
    lines: list[str]


@dataclass(frozen=True)
class Theme:
    """A curated theme keyword with explicit triggers."""

    title: tuple[str, ...]  # substrings of the title (2 points)
    strong: tuple[str, ...] = ()  # body words (2 points each)
    weak: tuple[str, ...] = ()  # body words (1 point each)
    title_exclude: tuple[str, ...] = ()  # title substrings that cancel the title points (别墅 is not 送别)


THEMES: dict[str, Theme] = {
    "送别": Theme(
        title=("送", "别", "饯", "赠行"),
        title_exclude=(
            "别墅",
            "别业",
            "别院",
            "别馆",
            "别驾",
            "别号",
            "送酒",
            "送茶",
            "送米",
            "送炭",
            "送花",
            "送梅",
            "送笋",
            "送菊",
            "送春",
            "送穷",
            "惠",
            "谢",
        ),
        strong=(
            "送君",
            "相送",
            "离别",
            "别离",
            "送别",
            "惜别",
            "长亭",
            "折柳",
            "离筵",
            "别酒",
            "送客",
            "送行",
        ),
        weak=("分手", "离情", "别后", "南浦", "征帆", "离亭", "远行", "此别", "一别"),
    ),
    "边塞": Theme(
        title=("出塞", "入塞", "塞上", "塞下", "边", "从军", "凉州", "戍", "征人", "关山"),
        strong=(
            "边塞",
            "塞上",
            "塞下",
            "塞外",
            "出塞",
            "边城",
            "胡笳",
            "羌笛",
            "戍楼",
            "烽火",
            "单于",
            "沙场",
            "玉门",
            "阳关",
            "楼兰",
            "铁衣",
            "边庭",
        ),
        weak=(
            "胡马",
            "胡沙",
            "胡天",
            "征人",
            "征夫",
            "关山",
            "鼓角",
            "刁斗",
            "阴山",
            "天山",
            "轮台",
            "萧关",
            "陇头",
            "燕然",
            "旌旗",
            "将军",
            "边声",
            "边月",
        ),
    ),
    "思乡": Theme(
        title=("思乡", "思归", "怀乡", "望乡", "乡思", "客思", "客中", "旅夜", "旅舍", "归思"),
        strong=(
            "故乡",
            "乡关",
            "乡心",
            "乡思",
            "思乡",
            "思归",
            "乡梦",
            "望乡",
            "乡愁",
            "故园",
            "家山",
            "家乡",
            "乡书",
            "家书",
        ),
        weak=("归梦", "归心", "故里", "他乡", "异乡", "游子", "客愁", "天涯"),
    ),
    "怀古": Theme(
        title=("怀古", "咏史", "览古", "吊古", "古迹", "故城", "故宫", "遗址", "故址", "古城", "怀古"),
        strong=("怀古", "兴亡", "六朝", "前朝", "霸业", "故国", "陈迹"),
        weak=("千古", "往事", "遗迹", "荒台", "古今", "英雄", "废兴", "旧时"),
    ),
    "闺怨": Theme(
        title=("闺怨", "宫怨", "春怨", "闺情", "宫词", "怨"),
        strong=("闺中", "深闺", "空闺", "香闺", "妾心", "妾身", "长门", "罗帐", "泪痕"),
        weak=("妾", "思妇", "锦书", "画眉", "妆", "罗衣", "空房"),
    ),
    "田园": Theme(
        title=("田园", "田家", "农家", "村居", "田舍", "农", "村"),
        strong=("田家", "桑麻", "田园", "农事", "耕田", "春耕", "鸡犬", "荷锄", "田舍"),
        weak=("耕", "锄", "稻", "麦", "桑", "篱", "村", "牧", "犁", "秧"),
    ),
    "登高": Theme(
        title=("登", "重阳", "九日"),
        title_exclude=("登第", "登科", "登瀛", "登庸", "登极"),
        strong=("登高", "登临", "凭栏", "危楼", "倚栏", "登楼"),
        weak=("高楼", "极目", "远眺", "凭高"),
    ),
    "咏物": Theme(title=("咏", "赋得")),
}
"""Theme keyword -> triggers. 咏物 is decided by the title alone (咏X / 赋得X)."""

SEASONS: tuple[str, ...] = ("春", "夏", "秋", "冬")
"""Single-char season keywords: the title names it (takes the weakest lexicon slot), or >= 2 lines have it."""


ALIGNED_STARTS: dict[int, tuple[int, ...]] = {5: (0, 2, 3), 7: (0, 2, 4, 5)}
"""Where a two-char word can start in a line, by line length (the 2+3 / 2+2+3 rhythm).

A bigram starting elsewhere (e.g. 临兴 in 老子登临|兴未休) straddles the caesura and is
almost never a word; lines of other lengths (titles) use every position.
"""

ABSTRACT_WORDS = frozenset(
    [
        "人间",
        "世间",
        "平生",
        "分明",
        "天地",
        "许多",
        "等闲",
        "寻常",
        "依旧",
        "无端",
        "胜事",
        "风流",
        "功名",
        "富贵",
        "今古",
        "古今",
        "生涯",
        "身世",
        "世事",
        "人生",
        "浮生",
        "乾坤",
        "宇宙",
        "造化",
        "道理",
        "光阴",
        "岁月",
        "消息",
        "情怀",
        "心事",
        "长短",
        "高低",
        "多少",
        "东西",
        "南北",
        "先生",
        "主人",
        "道人",
        "老夫",
        "吾侪",
        "吾道",
        "吾庐",
        "诗人",
        "诗句",
        "好诗",
        "新诗",
        "吟诗",
        "题诗",
        "清新",
        "分付",
        "商量",
        "安排",
        "从容",
        "等是",
        "依然",
        "宛然",
        "居然",
        "俨然",
        "翛然",
        "偶然",
        "自然",
        "悠然",
        "怡然",
        "今日",
        "当日",
        "昨日",
        "明日",
        "他日",
        "异日",
        "终日",
        "尽日",
        "镇日",
        "竟日",
        "连日",
        "平日",
        "当年",
        "今年",
        "往年",
        "昔年",
        "至今",
        "今朝",
        "明朝",
        "日月",
        "回首",
        "夫人",
    ]
)
"""Frequent, well-formed words that say nothing about a topic: abstractions and time adverbs (今日 当年),
found by reading the top-50 and sample reports."""


def line_bigrams(line: str, aligned: bool = True) -> Iterator[str]:
    """Two-char words of one line (never across lines); only rhythm-aligned starts by default."""
    starts = ALIGNED_STARTS.get(len(line)) if aligned else None
    for i in starts if starts is not None else range(len(line) - 1):
        if i + 2 <= len(line):
            yield line[i : i + 2]


def title_bigrams(title: str) -> Iterator[str]:
    """Adjacent pairs inside runs of Han characters of a title."""
    run: list[str] = []
    for ch in [*title, " "]:
        if "\u3400" <= ch <= "\u9fff":
            run.append(ch)
            continue
        yield from line_bigrams("".join(run), aligned=False)
        run = []


@dataclass
class Lexicon:
    """Corpus-mined two-char words with their document frequency."""

    df: dict[str, int]
    n_docs: int
    params: dict[str, Any] = field(default_factory=dict)

    def idf(self, word: str) -> float:
        return math.log(self.n_docs / (1 + self.df.get(word, 0)))

    def __contains__(self, word: object) -> bool:
        return word in self.df

    def __len__(self) -> int:
        return len(self.df)


def build_lexicon(
    poems: Sequence[_PoemLike],
    min_count: int = 50,
    min_pmi: float = 2.0,
    max_df_share: float = 0.03,
    max_context_share: float = 0.4,
    max_author_share: float = 0.3,
    progress: Callable[[int], None] | None = None,
) -> Lexicon:
    """Mine two-char words from the poem lines.

    A rhythm-aligned bigram is a word when it occurs >= `min_count` times, its chars
    are associated (PMI >= `min_pmi` bits over all adjacent pairs), neither char is a
    function char, it is not in `ABSTRACT_WORDS`, at most `max_df_share` of poems have
    it, no single left or right neighbour char accounts for more than
    `max_context_share` of its uses (that marks a fragment: 限好 of 无限好, 郁嵯 of
    郁嵯峨), and no single author wrote more than `max_author_share` of the poems
    that use it (names and personal tics: 尧夫).
    """
    aligned: Counter[str] = Counter()
    pairs: Counter[str] = Counter()
    chars: Counter[str] = Counter()
    df: Counter[str] = Counter()
    for i, p in enumerate(poems):
        seen: set[str] = set()
        for line in p.lines:
            chars.update(line)
            pairs.update(line_bigrams(line, aligned=False))
            grams = list(line_bigrams(line))
            aligned.update(grams)
            seen.update(grams)
        df.update(seen)
        if progress and i % 1000 == 999:
            progress(1000)
    n_chars = sum(chars.values()) or 1
    n_pairs = sum(pairs.values()) or 1
    max_df = max_df_share * len(poems)
    candidates: set[str] = set()
    for w, c in aligned.items():
        if c < min_count or w[0] in STOP_CHARS or w[1] in STOP_CHARS or w[0] == w[1]:
            continue
        if df[w] > max_df or w in ABSTRACT_WORDS:
            continue
        pmi = math.log2((pairs[w] / n_pairs) / ((chars[w[0]] / n_chars) * (chars[w[1]] / n_chars)))
        if pmi >= min_pmi:
            candidates.add(w)

    # Second pass, only for the candidates: neighbours and authors.
    left: dict[str, Counter[str]] = {w: Counter() for w in candidates}
    right: dict[str, Counter[str]] = {w: Counter() for w in candidates}
    authors: dict[str, Counter[str]] = {w: Counter() for w in candidates}
    for p in poems:
        seen = set()
        for line in p.lines:
            for j in ALIGNED_STARTS.get(len(line), ()):
                w = line[j : j + 2]
                if w in candidates:
                    seen.add(w)
                    if j > 0:
                        left[w][line[j - 1]] += 1
                    if j + 2 < len(line):
                        right[w][line[j + 2]] += 1
        for w in seen:
            authors[w][p.author] += 1
    words: dict[str, int] = {}
    for w in candidates:
        c = aligned[w]
        if any(ctx[w] and ctx[w].most_common(1)[0][1] > max_context_share * c for ctx in (left, right)):
            continue
        if authors[w] and authors[w].most_common(1)[0][1] > max_author_share * df[w]:
            continue
        words[w] = df[w]
    params = {
        "min_count": min_count,
        "min_pmi": min_pmi,
        "max_df_share": max_df_share,
        "max_context_share": max_context_share,
        "max_author_share": max_author_share,
        "stop_chars": len(STOP_CHARS),
        "abstract_words": len(ABSTRACT_WORDS),
    }
    return Lexicon(df=words, n_docs=len(poems), params=params)


def theme_scores(title: str, lines: Sequence[str]) -> dict[str, int]:
    """Points per curated theme (see THEMES); only themes with >= 1 point appear."""
    body = "\n".join(lines)
    scores: dict[str, int] = {}
    for name, theme in THEMES.items():
        if name == "咏物":
            pts = 2 if (title.startswith(("咏", "赋得")) and 1 <= len(title.lstrip("咏赋得")) <= 3) else 0
        else:
            pts = 2 * (
                any(t in title for t in theme.title) and not any(t in title for t in theme.title_exclude)
            )
            pts += 2 * sum(w in body for w in theme.strong) + sum(w in body for w in theme.weak)
        if pts:
            scores[name] = pts
    return scores


def extract_keywords(title: str, lines: Sequence[str], lexicon: Lexicon, k: int = MAX_KEYWORDS) -> list[str]:
    """Up to k keywords for one poem, best first (see the module docstring for the method)."""
    body = "".join(lines)
    body_chars = set(body)
    visible = body_chars | set(title)
    chosen: list[str] = []
    used: set[str] = set()

    def take(word: str) -> bool:
        if len(chosen) >= k or used & set(word) or not (set(word) & visible):
            return False
        chosen.append(word)
        used.update(word)
        return True

    # 1. the strongest curated theme (one at most: the lexicon gives the concrete images).
    themes = theme_scores(title, lines)
    for name, pts in sorted(themes.items(), key=lambda kv: (-kv[1], kv[0])):
        if pts >= 2 and take(name):
            break

    # 2. lexicon words by TF-IDF with a title bonus.
    tf: Counter[str] = Counter(w for line in lines for w in line_bigrams(line) if w in lexicon)
    title_words = {w for w in title_bigrams(title) if w in lexicon}
    scores: dict[str, float] = {}
    for w in set(tf) | title_words:
        in_body = sum(ch in body_chars for ch in w)
        if w in title_words and not in_body:
            continue  # a title-only word with no echo in the poem is usually a name or an office
        weight = tf[w] + (TITLE_BONUS * in_body / 2 if w in title_words else 0.0)
        scores[w] = weight * lexicon.idf(w)
    for w, _ in sorted(scores.items(), key=lambda kv: (-kv[1], kv[0])):
        take(w)

    # 3. a season: named in the title it outranks the weakest lexicon word; from the body it only fills a slot.
    for s in SEASONS:
        if s in used:
            continue
        if s in title and len(chosen) == k and chosen[-1] not in THEMES:
            used.difference_update(chosen.pop())
        if s in title or sum(s in line for line in lines) >= 2:
            take(s)
    return chosen


def keyword_stats(poems: Iterable[Any], lexicon: Lexicon, top: int = 50) -> dict[str, Any]:
    """Coverage and quality numbers for the manifest."""
    n = n_with = n_kw = chars_total = chars_in_body = in_title = 0
    counts: Counter[str] = Counter()
    lengths: Counter[int] = Counter()
    themes: Counter[str] = Counter()
    for p in poems:
        n += 1
        kws = p.keywords
        n_with += bool(kws)
        n_kw += len(kws)
        body = set("".join(p.lines))
        for w in kws:
            counts[w] += 1
            lengths[len(w)] += 1
            chars_total += len(w)
            chars_in_body += sum(ch in body for ch in w)
            in_title += w in p.title
            if w in THEMES or w in SEASONS:
                themes[w] += 1
    return {
        "method": KEYWORD_METHOD,
        "lexicon_size": len(lexicon),
        "lexicon_params": lexicon.params,
        "poems": n,
        "share_with_keyword": round(n_with / max(n, 1), 4),
        "mean_per_poem": round(n_kw / max(n, 1), 3),
        "distinct_keywords": len(counts),
        "keyword_length": {str(k): v for k, v in sorted(lengths.items())},
        "share_keyword_chars_in_body": round(chars_in_body / max(chars_total, 1), 4),
        "share_keywords_in_title": round(in_title / max(n_kw, 1), 4),
        "theme_counts": dict(themes.most_common()),
        "top": [[w, c] for w, c in counts.most_common(top)],
    }
