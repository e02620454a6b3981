"""RhymeUsage: how the corpus rhymes, and the composer rhyming only in readings people hear."""

from __future__ import annotations

from pathlib import Path

from poetcore.eval.evaluate import rhyme_readings, topic_artifacts
from poetcore.lexicon.rhyme_usage import RHYME_USAGE_PATH, RhymeUsage
from poetcore.prosody.rhymes import RhymeTable

TABLE = RhymeTable.default()


def gid(label: str) -> str:
    found = TABLE.find_group(label)
    assert found is not None
    return found


def test_shipped_usage_hears_the_common_readings_only() -> None:
    usage = RhymeUsage.default()
    assert usage.meta["poems"] > 200_000  # derived from the whole prepared corpus
    xian, geng, shan, yang = gid("先"), gid("庚"), gid("删"), gid("阳")
    assert gid("先") in TABLE.ping_groups("还") and gid("先") in TABLE.ping_groups("平")  # the table allows both
    assert not usage.common("还", xian) and usage.common("还", shan)
    assert not usage.common("平", xian) and usage.common("平", geng)
    assert usage.common("行", geng) and not usage.common("行", yang)  # 行列 is real but a reader hears 行走
    assert usage.dominant("平") == geng and usage.dominant("天") == xian
    assert usage.common_groups("还", TABLE) == {shan}


def test_derive_counts_rhyme_positions_of_unambiguous_poems(tmp_path: Path) -> None:
    poems = [
        {"lines": ["白日依山尽", "黄河入海流", "欲穷千里目", "更上一层楼"]},  # 尤: 流 楼
        {"lines": ["床前明月光", "疑是地上霜", "举头望明月", "低头思故乡"]},  # 阳: 光 (首句入韵) 霜 乡
        {"lines": ["千山鸟飞绝", "万径人踪灭", "孤舟蓑笠翁", "独钓寒江雪"]},  # 仄韵: skipped
        {"lines": ["一二三四五"]},  # not a regular shape: not seen
    ]
    usage = RhymeUsage.derive(poems, TABLE)
    assert usage.meta["poems"] == 3 and usage.meta["skipped"] == 1
    assert usage.uses("流", gid("尤")) == usage.uses("楼", gid("尤")) == 1
    assert usage.uses("尽", gid("尤")) == 0  # the first line does not rhyme there
    assert {ch: usage.uses(ch, gid("阳")) for ch in "光霜乡"} == {"光": 1, "霜": 1, "乡": 1}
    # 江雪 rhymes in 仄 (入声 屑, 首句入韵): counted apart, never seen by the 平声 queries decoding uses.
    xie = gid("屑")
    assert {ch: usage.uses(ch, xie) for ch in "绝灭雪翁"} == {"绝": 1, "灭": 1, "雪": 1, "翁": 0}
    assert usage.meta["ze_poems"] == 1 and usage.dominant("雪") is None and "雪" not in usage.totals
    usage.save(tmp_path / "u.json")
    again = RhymeUsage.load(tmp_path / "u.json")
    assert again.counts == {g: c for g, c in usage.counts.items() if c} and again.meta == usage.meta
    assert again.ze_counts == usage.ze_counts and again.uses("雪", xie) == 1
    assert RHYME_USAGE_PATH.is_file()


def test_derive_counts_a_ze_poem_only_in_its_one_ze_group() -> None:
    poems = [
        {"lines": ["春眠不觉晓", "处处闻啼鸟", "夜来风雨声", "花落知多少"]},  # 上声 筱: 晓 (首句) 鸟 少
        {"lines": ["山中相送罢", "日暮掩柴扉", "春草明年绿", "王孙归不归"]},  # 平韵 微: not a 仄 count
        {"lines": ["一二三四五", "上山打老虎", "老虎不吃人", "专吃小松鼠"]},  # 虎 麌, 鼠 语: no one group
    ]
    usage = RhymeUsage.derive(poems, TABLE)
    xiao = gid("筿")
    assert {ch: usage.uses(ch, xiao) for ch in "晓鸟少"} == {"晓": 1, "鸟": 1, "少": 1}
    assert usage.meta["ze_poems"] == 1 and set(usage.ze_counts) == {xiao}
    assert usage.uses("扉", gid("微")) == usage.uses("归", gid("微")) == 1


def test_shipped_usage_counts_ze_groups_from_ze_rhymed_poems() -> None:
    usage = RhymeUsage.default()
    yue = gid("月")
    assert usage.meta["ze_poems"] > 5_000
    assert usage.uses("月", yue) > usage.uses("发", yue) > 0 and usage.uses("东", yue) == 0
    assert sum(usage.ze_counts[gid("屑")].values()) > 500  # 雪 绝 灭 …
    assert gid("讲") not in usage.ze_counts  # no corpus poem rhymes in 上声三讲
    assert usage.common("行", gid("庚")) and not usage.common("行", gid("阳"))  # 仄 counts leave 平 shares alone


def test_rhyme_readings_of_a_poem() -> None:
    usage = RhymeUsage.default()
    # 平 and 还 share 先 only through rare readings: a reader hears no rhyme.
    odd = ["独倚清明水欲平", "春来花发见春天", "人间何处无芳草", "一去千年万古还"]
    dominant, common, total = rhyme_readings(odd, TABLE, usage)
    assert total == 3 and dominant == 1 and common == 1  # only 天 is at home in 先
    good = ["床前明月光", "疑是地上霜", "举头望明月", "低头思故乡"]
    assert rhyme_readings(good, TABLE, usage) == (3, 3, 3)


def test_composer_rhymes_only_in_common_readings(composer) -> None:
    from poetcore.request import ComposeRequest

    usage = RhymeUsage.default()
    reqs = [ComposeRequest(t, f, n=4, seed=i) for i, (t, f) in enumerate((t, f) for t in ("秋月", "江南", "送别")
                                                                       for f in ("七绝", "五律", "五绝"))]
    seen = 0
    for poem in composer.compose_batch(reqs):
        if isinstance(poem, Exception):
            continue
        _, common, total = rhyme_readings(poem.lines, TABLE, usage)
        assert common == total, poem.text
        seen += 1
    assert seen >= 6


def test_topic_artifacts_find_doubled_and_isolated_topic_characters() -> None:
    from collections import Counter

    assert topic_artifacts(["故故人来远"], "故人", None) == ["doubled 故故 in 故故人来远"]
    assert topic_artifacts(["湖水西西去"], "西湖", None) == ["doubled 西西 in 湖水西西去"]
    assert topic_artifacts(["花花世界新"], "花花", None) == []  # the user asked for the 叠字
    bigrams = Counter({"明月": 5, "月光": 3})
    assert topic_artifacts(["明月光"], "月", bigrams) == []
    assert topic_artifacts(["山月水"], "月", bigrams) == ["isolated 月 in 山月水"]


def test_the_shipped_season_lexicon_is_derived_and_sensible() -> None:
    from poetcore.lexicon.seasons import SeasonLexicon

    lexicon = SeasonLexicon.default()
    assert lexicon.meta["titled_poems"]["春"] > 1000  # learnt from the prepared corpus's titles
    assert {lexicon.season_of[ch] for ch in "柳桃莺"} == {"春"}
    assert lexicon.season_of["暑"] == "夏" and lexicon.season_of["蛩"] == "秋" and lexicon.season_of["炉"] == "冬"
    assert "月" not in lexicon.season_of and "风" not in lexicon.season_of  # every season has them
    assert lexicon.topic_season("秋月") == "秋" and lexicon.topic_season("春夏") is None
    assert lexicon.clashes("秋月", ["秋月长江未可开", "黄昏已尽春风过"])
    assert not lexicon.clashes("秋月", ["秋风落叶满长安"])
    # Words of two season-less characters (what readers still caught after the character lexicon).
    assert {lexicon.words[w] for w in ("东风", "寒食", "清明")} == {"春"}
    assert lexicon.words["五月"] == "夏" and lexicon.words["西风"] == "秋" and lexicon.words["梅花"] == "冬"
    assert not any(ch in lexicon.season_of for w in lexicon.words for ch in w)
    assert lexicon.clashes("秋夜", ["夜来秋月五月天"]) and lexicon.topic_season("寒食") == "春"
    assert not lexicon.clashes("秋夜", ["风东", "五", "月"])  # words do not run across lines
    # Of no one season, yet out of place in one: 梅 in autumn, 菊 and 蝉 in spring.
    assert "秋" in lexicon.rare_in["梅"] and "春" in lexicon.rare_in["菊"] and "春" in lexicon.rare_in["蝉"]
    assert not set(lexicon.rare_in) & set(lexicon.season_of) and "月" not in lexicon.rare_in


def test_season_lexicon_derive_needs_enough_titled_poems() -> None:
    from poetcore.lexicon.seasons import MIN_POEMS, SeasonLexicon

    spring = [{"title": "春日", "lines": ["柳色新", "花开早"]}] * MIN_POEMS
    autumn = [{"title": "秋夜", "lines": ["花开晚", "叶落时"]}] * MIN_POEMS
    lexicon = SeasonLexicon.derive(spring + autumn + [{"title": "春秋", "lines": ["叶柳"]}])
    assert lexicon.season_of == {"柳": "春", "色": "春", "新": "春", "早": "春", "晚": "秋", "叶": "秋", "落": "秋",
                                 "时": "秋"}  # 花 and 开 are in both: no season
    assert lexicon.meta["titled_poems"] == {"春": MIN_POEMS, "秋": MIN_POEMS}
    assert lexicon.words == {}  # 柳色, 花开 …: every pair has a character of a season, or is in both


def test_season_words_are_pairs_of_season_less_characters(tmp_path: Path) -> None:
    from poetcore.lexicon.seasons import MIN_WORD_POEMS, SeasonLexicon

    spring = [{"title": "春日", "lines": ["东风来", "西山晚"]}] * MIN_WORD_POEMS
    autumn = [{"title": "秋夜", "lines": ["西风来", "东山晚"]}] * MIN_WORD_POEMS
    lexicon = SeasonLexicon.derive(spring + autumn)
    assert lexicon.season_of == {}  # every character is in both
    assert lexicon.words == {"东风": "春", "西山": "春", "西风": "秋", "东山": "秋"}  # 风来, 山晚: both
    lexicon.save(tmp_path / "seasons.json")
    assert SeasonLexicon.load(tmp_path / "seasons.json").words == lexicon.words
    rare = SeasonLexicon.derive(spring[: MIN_WORD_POEMS - 1] + autumn)
    assert "东风" not in rare.words and rare.words["西风"] == "秋"


def test_out_of_place_characters_need_all_four_seasons_and_enough_poems(tmp_path: Path) -> None:
    from poetcore.lexicon.seasons import MIN_RARE_POEMS, SeasonLexicon

    n = MIN_RARE_POEMS
    seasons = {"春": "梅柳月", "夏": "梅荷月", "秋": "荷菊月", "冬": "梅菊月"}
    poems = [{"title": f"{s}日", "lines": [chars]} for s, chars in seasons.items() for _ in range(n)]
    lexicon = SeasonLexicon.derive(poems)
    assert lexicon.rare_in == {"梅": "秋", "菊": "春夏", "荷": "春冬"}  # 月: everywhere; 柳: one season
    lexicon.save(tmp_path / "s.json")
    assert SeasonLexicon.load(tmp_path / "s.json").rare_in == lexicon.rare_in
