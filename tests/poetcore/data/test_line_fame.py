"""Poem and line fame (poetcore.data.line_fame) and the built-in index's choice of poems."""

from __future__ import annotations

import numpy as np
import pytest

from poetcore.data.line_build import BUILTIN_SHARES, select_builtin
from poetcore.data.line_fame import (
    CANON_BONUS,
    POEM_FEATURES,
    POEM_WEIGHTS,
    canon_lines,
    compute_fame,
    fit_poem_weights,
    poem_kind,
    sigmoid,
)
from poetcore.data.line_sources import CanonPoem, SourcePoem, load_canon

HITS = (5.0, 5.0, 5.0, 5.0, 4.0)


def poem(collection: str, author: str, title: str, lines: tuple[str, ...], hits: tuple[float, ...] | None = None,
         dynasty: str = "唐") -> SourcePoem:
    return SourcePoem(collection, dynasty, author, title, lines, hits)


JINGYESI = ("床前明月光", "疑是地上霜", "举头望明月", "低头思故乡")
LONG = tuple(f"{a}{b}长歌行一句" for a in "甲乙丙丁戊己" for b in "子丑寅卯")  # 24 lines


def test_fitting_recovers_the_weights_that_made_the_labels() -> None:
    rng = np.random.default_rng(0)
    x = np.column_stack([rng.normal(size=(20000, 3)), np.ones(20000)])
    true = np.array([1.5, -2.0, 0.0, -1.0])
    y = (rng.random(20000) < sigmoid(x @ true)).astype(float)
    fitted = fit_poem_weights(x, y)
    assert np.allclose(fitted, true, atol=0.15), fitted
    assert len(POEM_WEIGHTS) == len(POEM_FEATURES) and POEM_FEATURES[-1] == "bias"


def test_the_short_collections_and_the_canon_rank_a_poem_above_its_hits() -> None:
    poems = [
        poem("唐诗三百首", "李白", "静夜思", JINGYESI),
        poem("全唐诗", "李白", "静夜思", JINGYESI, HITS),
        poem("全唐诗", "某甲", "九日", ("九日登高望", "秋风满故山", "黄花开未尽", "白发又添斑"), (7.0,) * 5),
        poem("全唐诗", "某乙", "无题", ("春风吹古道", "落日照孤城", "行人归未得", "烟水隔重城"), HITS),
    ]
    fame = compute_fame(poems, canon=[])
    assert list(fame.collections) == [1, 1, 0, 0]  # the 全唐诗 copy of 静夜思 is held too
    assert fame.poems[0] > fame.poems[2] > fame.poems[3]  # more hits, more fame; a collection beats both
    with_canon = compute_fame(poems, canon=[CanonPoem("某乙", "无题", ("春风吹古道",))])
    assert with_canon.poems[3] > with_canon.poems[0] and bool(with_canon.canon[3])
    assert with_canon.lines[3].min() > 0.9


def test_a_long_canon_poem_is_known_by_its_key_lines_only() -> None:
    poems = [poem("全唐诗", "白居易", "长歌", LONG, HITS), poem("全唐诗", "白居易", "短歌", JINGYESI, HITS)]
    canon = [CanonPoem("白居易", "长歌", (LONG[10], LONG[11])), CanonPoem("白居易", "短歌", (JINGYESI[2],))]
    assert canon_lines(poems, canon) == [frozenset({10, 11}), frozenset({0, 1, 2, 3})]
    assert canon_lines(poems, [CanonPoem("杜甫", "长歌", (LONG[10],))]) == [frozenset(), frozenset()]  # not his
    fame = compute_fame(poems, canon=canon)
    long = fame.lines[0]
    assert long[10] == long[11] > 0.9 and long[10] > long.max(initial=0, where=np.arange(24) != 10) - 1e-9
    assert long[12] < 0.5  # the rest of a long poem is not known because its key lines are
    assert fame.lines[1].min() > 0.9


def test_a_line_other_poets_quote_or_a_primer_holds_is_more_famous() -> None:
    a = poem("全唐诗", "甲", "题壁", ("孤云独去闲", "众鸟高飞尽", "青山看不厌", "流水听无穷"), HITS)
    quoting = [poem("全宋诗", name, "集句", ("孤云独去闲", f"{name}自有诗"), HITS, "宋") for name in "乙丙丁"]
    fame = compute_fame([a, *quoting], primer_lines=["流水听无穷"], canon=[])
    lines = fame.lines[0]
    assert lines[0] == lines[1] > lines[2] and lines[3] > lines[2]  # the quoted couplet; the primer's line


def test_kinds() -> None:
    assert [poem_kind(p) for p in (
        poem("全唐诗", "李白", "t", JINGYESI), poem("千家诗", "苏轼", "t", JINGYESI, dynasty="宋"),
        poem("宋词三百首", "苏轼", "t", JINGYESI, dynasty="宋"), poem("诗经", "佚名", "t", JINGYESI, dynasty="先秦"),
        poem("元曲", "马致远", "t", JINGYESI, dynasty="元"))] == ["唐诗", "宋诗", "词", "古诗", "曲"]


def test_the_builtin_takes_every_short_collection_poem_then_each_kind_by_fame_within_its_share() -> None:
    poems = [poem("唐诗三百首", "李白", "静夜思", JINGYESI)]
    poems += [poem("全唐诗", "某", f"唐{i}", tuple(f"唐诗第{i:03d}首{j}" for j in range(4))) for i in range(100)]
    poems += [poem("全宋诗", "某", f"宋{i}", tuple(f"宋诗第{i:03d}首{j}" for j in range(4)), dynasty="宋")
              for i in range(100)]
    fame = np.array([0.9] + [1 - i / 1000 for i in range(100)] + [0.5 - i / 1000 for i in range(100)])
    canon = np.zeros(len(poems), dtype=bool)
    canon[150] = True  # a 宋 poem the canon names comes in whatever its fame
    picked = select_builtin(poems, fame, budget=100, always=canon)
    chosen = {poems[i].title for i in picked}
    assert "静夜思" in chosen and "宋49" in chosen
    tang = sorted(int(t[1:]) for t in chosen if t.startswith("唐"))
    assert tang == list(range(len(tang))) and len(tang) * 4 <= BUILTIN_SHARES["唐诗"] * 100  # the best, in its share
    assert len([t for t in chosen if t.startswith("宋")]) * 4 <= BUILTIN_SHARES["宋诗"] * 100 + 4
    assert [fame[i] for i in picked] == sorted((fame[i] for i in picked), reverse=True)


def test_the_shipped_canon_is_well_formed() -> None:
    canon = load_canon()
    assert len(canon) > 200 and all(c.lines for c in canon)
    keys = [(c.author, c.lines[0]) for c in canon]
    assert len(keys) == len(set(keys))
    assert CANON_BONUS > 0


@pytest.mark.parametrize("bad", ["李白\t静夜思", "李白\t静夜思\t床前", "李白\t静夜思\t床前明月光/疑是"])
def test_a_bad_canon_row_is_refused_with_its_line_number(tmp_path: pytest.TempPathFactory, bad: str) -> None:
    path = tmp_path / "canon.tsv"  # type: ignore[operator]
    path.write_text(f"# header\n{bad}\n", encoding="utf-8")
    with pytest.raises(ValueError, match=":2:"):
        load_canon(path)
