"""Keyword extraction: lexicon mining rules and per-poem label properties."""

from __future__ import annotations

from dataclasses import dataclass, field

from poetcore.data.keywords import (
    ABSTRACT_WORDS,
    MAX_KEYWORDS,
    STOP_CHARS,
    Lexicon,
    build_lexicon,
    extract_keywords,
    keyword_stats,
    line_bigrams,
    theme_scores,
    title_bigrams,
)


@dataclass
class P:
    title: str
    lines: list[str]
    author: str = "甲"
    keywords: list[str] = field(default_factory=list)


def test_line_bigrams_follow_the_caesura() -> None:
    assert list(line_bigrams("床前明月光")) == ["床前", "明月", "月光"]
    assert list(line_bigrams("风急天高猿啸哀")) == ["风急", "天高", "猿啸", "啸哀"]
    assert list(line_bigrams("床前明月光", aligned=False)) == ["床前", "前明", "明月", "月光"]
    assert list(title_bigrams("送杜少府之任蜀州")) == ["送杜", "杜少", "少府", "府之", "之任", "任蜀", "蜀州"]
    assert list(title_bigrams("帝京篇 一")) == ["帝京", "京篇"]


TAILS = ["照寒江", "满空山", "入高楼", "下西楼", "映清波", "落前川", "生远浦", "过小桥", "隔烟村", "临野渡"]


def _corpus() -> list[P]:
    """240 poems: real-looking words in varied contexts, plus one trap per lexicon rule."""
    poems = []
    for i in range(60):
        author = f"作者{i % 7}"
        tail = [TAILS[(i + k) % 10] for k in range(4)]
        poems.append(
            P(f"杂诗{i}", [f"秋月{tail[0]}", f"梅花{tail[1]}", f"落日{tail[2]}", "江山无限好"], author)
        )
        poems.append(
            P(f"偶成{i}", [f"人间{tail[0]}", f"青山{tail[1]}", f"白云{tail[2]}", f"尧夫{tail[3]}"], "邵雍")
        )
        # "明" ends a line and "月" starts the next: that must never make 明月 a word.
        poems.append(
            P(f"夜坐{i}", ["江上夜分明", f"月下{tail[1]}", f"霜天{tail[2]}", f"野水{tail[3]}"], author)
        )
        poems.append(
            P(f"闲居{i}", [f"不知{tail[0]}", f"何处{tail[1]}", f"孤舟{tail[2]}", "风光无限好"], author)
        )
    return poems


def test_lexicon_rules() -> None:
    lex = build_lexicon(_corpus(), min_count=30, min_pmi=0.0, max_df_share=1.0)
    assert "秋月" in lex and "梅花" in lex and "落日" in lex
    assert "明月" not in lex  # only ever across a line break
    assert "不知" not in lex and "何处" not in lex  # function chars
    assert not any(ch in STOP_CHARS for w in lex.df for ch in w)
    assert "人间" not in lex and "人间" in ABSTRACT_WORDS
    assert "限好" not in lex  # always inside 无限好: a fragment
    assert "尧夫" not in lex  # one author wrote every poem with it
    assert lex.df["秋月"] == 60 and lex.n_docs == 240
    assert lex.idf("秋月") < lex.idf("never-seen")


def test_lexicon_frequency_filters() -> None:
    corpus = _corpus()
    assert "秋月" not in build_lexicon(corpus, min_count=61, min_pmi=0.0, max_df_share=1.0)
    assert "秋月" not in build_lexicon(corpus, min_count=30, min_pmi=0.0, max_df_share=0.2)  # in 25% of poems


def test_themes_fire_on_their_triggers_only() -> None:
    assert theme_scores("送友人", ["青山横北郭", "白水绕东城"])["送别"] >= 2
    assert "送别" not in theme_scores("题王氏别墅", ["青山横北郭", "白水绕东城"])
    assert "送别" not in theme_scores("谢人送酒", ["青山横北郭", "白水绕东城"])
    assert theme_scores("无题", ["白日依山尽", "黄河入海流", "欲穷千里目", "更上一层楼"]) == {}
    chusai = ["秦时明月汉时关", "万里长征人未还", "但使龙城飞将在", "不教胡马度阴山"]
    assert theme_scores("无题", chusai) == {"边塞": 3}  # 征人 + 胡马 + 阴山, weak words
    assert theme_scores("塞下曲", ["烽火照西京", "羌笛何须怨"])["边塞"] >= 2
    assert theme_scores("咏柳", ["碧玉妆成一树高"])["咏物"] == 2
    assert "登高" not in theme_scores("登第后作", ["春风得意马蹄疾"])


def test_extracted_keywords_have_the_promised_properties() -> None:
    corpus = _corpus()
    lex = build_lexicon(corpus, min_count=30, min_pmi=0.0, max_df_share=1.0)
    cases = [
        ("秋夜", ["秋月照寒江", "孤舟夜不眠", "梅花开满树", "落日下西山"]),
        ("送友人", ["秋月照寒江", "送君南浦去", "落日下西山", "长亭酒一杯"]),
        ("春晓", ["春眠不觉晓", "处处闻啼鸟", "夜来风雨声", "花落知多少"]),
    ]
    for title, lines in cases:
        kws = extract_keywords(title, lines, lex)
        assert kws == extract_keywords(title, lines, lex)  # deterministic
        assert 0 < len(kws) <= MAX_KEYWORDS
        visible = set(title + "".join(lines))
        for i, w in enumerate(kws):
            assert set(w) & visible, (w, title)
            assert not any(set(w) & set(other) for other in kws[i + 1 :]), kws  # distinct ideas
    assert extract_keywords("送友人", cases[1][1], lex)[0] == "送别"
    assert "秋月" in extract_keywords("秋夜", cases[0][1], lex)
    assert "春" in extract_keywords("春晓", cases[2][1], lex)  # season from the title


def test_empty_lexicon_still_gives_themes_and_nothing_invented() -> None:
    empty = Lexicon(df={}, n_docs=1)
    assert extract_keywords("无题", ["床前明月光", "疑是地上霜", "举头望明月", "低头思故乡"], empty) == [
        "思乡"
    ]
    assert extract_keywords("无题", ["白日依山尽", "黄河入海流", "欲穷千里目", "更上一层楼"], empty) == []


def test_keyword_stats() -> None:
    poems = [P("秋月", ["秋月照寒江"], keywords=["秋月", "寒江"]), P("无题", ["孤舟夜不眠"], keywords=[])]
    stats = keyword_stats(poems, Lexicon(df={"秋月": 1, "寒江": 1}, n_docs=2))
    assert stats["share_with_keyword"] == 0.5
    assert stats["mean_per_poem"] == 1.0
    assert stats["share_keyword_chars_in_body"] == 1.0
    assert stats["share_keywords_in_title"] == 0.5
    assert stats["top"][0][1] == 1 and stats["keyword_length"] == {"2": 2}
