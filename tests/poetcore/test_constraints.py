"""PoemConstraintLogitsProcessor, tested the transformers way: a tiny vocabulary, hand-written masks.

The vocabulary is ~40 characters whose 平水韵 facts are pinned by `test_vocabulary_facts`, so every
expected mask below can be read off these constants. The processor is stateful (it learns what
was written from the last token of each call), so tests drive it step by step like ``generate``.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import product

import pytest
import torch
from transformers import LogitsProcessorList, TemperatureLogitsWarper

from poetcore.decoding.masks import VocabMasks, vocab_masks
from poetcore.decoding.processor import MIN_RHYME_GROUP_SIZE, PoemConstraintLogitsProcessor
from poetcore.decoding.spec import PoemSpec, body_layout, feasible_variants
from poetcore.errors import PoetcoreInputError
from poetcore.model.tokenizer import EOS, PAD, build_tokenizer
from poetcore.prosody.checker import check
from poetcore.prosody.forms import FORMS, FormTemplate, FormVariant
from poetcore.prosody.rhymes import RhymeTable, Tone

DONG = "东风红同通翁工功弓宫熊雄"  # 上平一东, 平 only
POLY = "中空"  # 平 in 上平一东, 仄 in 去声一送 / 上声一董
XIAN = "天前年田边烟泉眠船仙弦怜"  # 下平一先, 平 only
SHAN = "山"  # 上平十五删: one character here, a narrow group
ZE = "月白夜雪酒石落鸟草柳叶客"  # 仄 only (入声 or 上/去)
UNKNOWN = "𠀀"  # a Han character with no known tone
LATIN = "a"

PING_OK = set(DONG + POLY + XIAN + SHAN)  # may stand at a 平 position
ZE_OK = set(ZE + POLY)  # may stand at a 仄 position
KNOWN = PING_OK | ZE_OK
DONG_RHYME = set(DONG + POLY)
XIAN_RHYME = set(XIAN)

WUJUE = FORMS["五绝"]
# 五绝 仄起首句不入韵 (variant 0): A5 中仄平平仄 / B5 中平中仄平 / C5 中平平仄仄 / D5 中仄仄平平.
POEM = "东月天前白，田风中夜红。酒年烟石落，鸟草柳泉通。"
PUNCT_STEPS = (5, 11, 17, 23)
# A two-line toy form for the repeat rules: every position free except the rhyme.
TOY = FormTemplate("试", (FormVariant("toy", ("中中中", "中中平"), (1,)),))


@pytest.fixture(scope="module")
def tok():
    return build_tokenizer([DONG + POLY + XIAN + SHAN + ZE + UNKNOWN + LATIN])


@pytest.fixture(scope="module")
def masks(tok) -> VocabMasks:
    return VocabMasks(tok, RhymeTable.default())


def tokens_of(tok, script: str) -> list[int]:
    """One token per character; "|" stands for EOS."""
    return [tok.eos_token_id if ch == "|" else tok.convert_tokens_to_ids(ch) for ch in script]


def names(tok, row: torch.Tensor) -> set[str]:
    return set(tok.convert_ids_to_tokens(row.nonzero().flatten().tolist()))


def walk(
    proc: PoemConstraintLogitsProcessor, tok, scripts: Sequence[str], prompt_length: int = 3
) -> list[list[set[str]]]:
    """Feed the scripts token by token; ``out[step][row]`` is the allowed set before token ``step``.

    The result has one more step than the scripts: the masks after the last token.
    """
    rows = [tokens_of(tok, s) for s in scripts]
    assert len({len(r) for r in rows}) == 1, "scripts must have equal length"
    ids = torch.full((len(rows), prompt_length), tok.bos_token_id)
    out: list[list[set[str]]] = []
    for step in range(len(rows[0]) + 1):
        scores = torch.zeros(len(rows), len(tok))
        allowed = torch.isfinite(proc(ids, scores))
        out.append([names(tok, allowed[b]) for b in range(len(rows))])
        if step == len(rows[0]):
            break
        nxt = torch.tensor([[r[step]] for r in rows])
        for b, r in enumerate(rows):
            assert bool(allowed[b, r[step]]), f"script row {b} step {step}: {scripts[b][step]!r} is not allowed"
        ids = torch.cat([ids, nxt], dim=1)
    return out


def single(proc: PoemConstraintLogitsProcessor, tok, script: str) -> list[set[str]]:
    return [step[0] for step in walk(proc, tok, [script])]


def processor(masks: VocabMasks, *specs: PoemSpec, **kwargs) -> PoemConstraintLogitsProcessor:
    return PoemConstraintLogitsProcessor(list(specs), masks, prompt_length=3, **kwargs)


# -- the vocabulary ------------------------------------------------------------------------------


def test_vocabulary_facts(masks: VocabMasks) -> None:
    table = RhymeTable.default()
    for ch in DONG + XIAN + SHAN:
        assert table.tones(ch) == {Tone.PING}, ch
    for ch in ZE:
        assert table.tones(ch) == {Tone.ZE}, ch
    for ch in POLY:
        assert table.tones(ch) == {Tone.PING, Tone.ZE} and table.ping_groups(ch) == {"上平一东"}, ch
    assert all(table.ping_groups(ch) == {"上平一东"} for ch in DONG)
    assert all(table.ping_groups(ch) == {"下平一先"} for ch in XIAN)
    assert table.ping_groups(SHAN) == {"上平十五删"} and not table.tones(UNKNOWN)
    sizes = {g: int(n) for g, n in zip(masks.rhyme_classes, masks.group_sizes, strict=True) if n}
    ping = {g: n for g, n in sizes.items() if g in masks.ping_groups}
    assert ping == {"上平一东": 14, "下平一先": 12, "上平十五删": 1}
    # The same characters as 词 rhymes: 东 is 词林正韵 第一部, 先 and 删 第七部 (平).
    assert sizes["部1平"] == 14 and sizes["部7平"] == 13
    assert MIN_RHYME_GROUP_SIZE == 12  # 东 and 先 are wide enough to be picked freely, 删 is not


def test_masks_know_only_single_han_characters_with_a_tone(tok, masks: VocabMasks) -> None:
    known = names(tok, masks.known)
    assert known == KNOWN
    assert names(tok, masks.tone_table[1]) == PING_OK and names(tok, masks.tone_table[2]) == ZE_OK
    assert names(tok, masks.tone_table[0]) == set()
    assert masks.char_of[tok.convert_tokens_to_ids(UNKNOWN)] == UNKNOWN  # a character, but never allowed
    assert masks.char_of[tok.convert_tokens_to_ids(LATIN)] is None
    assert masks.char_of[masks.comma_id] is None and masks.char_of[masks.eos_id] is None
    assert vocab_masks(tok) is vocab_masks(tok)  # built once per tokenizer


def test_body_layout_places_punctuation_and_eos() -> None:
    layout = body_layout(WUJUE, comma_id=10, period_id=11)
    assert len(layout) == 4 * 5 + 4 + 1
    assert [layout[s][1] for s in PUNCT_STEPS] == [10, 11, 10, 11]
    chars = [(line, pos) for kind, line, pos in layout if pos >= 0]
    assert chars == [(line, pos) for line in range(4) for pos in range(5)]
    assert layout[-1][1:] == (-1, -1) and layout[-1][0] not in {layout[0][0], layout[5][0]}


# -- layout, punctuation, EOS ------------------------------------------------------------------


def test_punctuation_only_at_line_ends_and_eos_only_at_the_end(tok, masks: VocabMasks) -> None:
    steps = single(processor(masks, PoemSpec(WUJUE)), tok, POEM + "|")
    assert [steps[s] for s in PUNCT_STEPS] == [{"，"}, {"。"}, {"，"}, {"。"}]
    assert steps[24] == {EOS}
    assert steps[25] == {EOS, PAD}  # finished rows only pad
    for s, allowed in enumerate(steps[:24]):
        if s not in PUNCT_STEPS:
            assert allowed and allowed <= KNOWN, s  # never 𠀀, Latin, punctuation, EOS or specials
    assert check(POEM, form="五绝").ok


def test_rows_of_different_forms_end_independently(tok, masks: VocabMasks) -> None:
    proc = processor(masks, PoemSpec(WUJUE), PoemSpec(TOY))
    toy = "中风月，空雪东。|"
    steps = walk(proc, tok, [POEM[: len(toy)], toy])
    assert [steps[s][1] for s in (3, 7, 8, 9)] == [{"，"}, {"。"}, {EOS}, {EOS, PAD}]
    assert steps[5][0] == {"，"}  # the 五绝 row keeps its own layout
    assert steps[9][0] and steps[9][0] <= KNOWN
    assert proc.max_new_tokens == 25


# -- tones -------------------------------------------------------------------------------------


def test_tone_masks_follow_the_chart(tok, masks: VocabMasks) -> None:
    steps = single(processor(masks, PoemSpec(WUJUE, repeat="none", variants=(0,))), tok, POEM)
    # Line 0 is A5 中仄平平仄.
    assert steps[0] == KNOWN
    assert steps[1] == ZE_OK
    assert steps[2] == PING_OK - {"东"}
    assert steps[3] == PING_OK - {"东", "天"}
    assert steps[4] == ZE_OK - {"月"}
    # Line 2 is C5 中平平仄仄, line 3 D5 中仄仄平平.
    used = set("东月天前白田风中夜红")
    assert steps[12] == KNOWN - used
    assert steps[13] == PING_OK - used - {"酒"}
    assert steps[15] == ZE_OK - used - set("酒年烟")
    assert steps[19] == ZE_OK - used - set("酒年烟石落鸟")


@pytest.mark.parametrize(
    ("head", "third"),
    [("夜", PING_OK), ("山", KNOWN), ("空", KNOWN)],
    ids=["ze-head-needs-ping-third", "ping-head-frees-third", "polyphonic-head-is-not-judged"],
)
def test_gu_ping_lookahead_in_b_line(tok, masks: VocabMasks, head: str, third: set[str]) -> None:
    # Line 1 is B5 中平中仄平: a certain 仄 first character forces 平 on the third (孤平).
    steps = single(processor(masks, PoemSpec(WUJUE, repeat="none", variants=(0,))), tok, POEM[:6] + head + "风")
    used = set(POEM[:5]) | {head, "风"}
    assert steps[8] == third - used


def test_san_ping_wei_is_avoided(tok, masks: VocabMasks) -> None:
    # Toy line 中中中: after two certain 平 the third must be 仄; after 平 + polyphonic, anything.
    proc = processor(masks, *[PoemSpec(TOY, repeat="none")] * 3)
    steps = walk(proc, tok, ["东风", "东空", "月白"])
    assert steps[2][0] == ZE_OK
    assert steps[2][1] == KNOWN - {"东", "空"}
    assert steps[2][2] == PING_OK  # 三仄尾 avoided the same way


def test_variants_are_tracked(tok, masks: VocabMasks) -> None:
    proc = processor(masks, *[PoemSpec(WUJUE)] * 3)
    walk(proc, tok, ["东月", "东风", "东中"])
    # Variants: 0 仄起不入韵, 1 平起不入韵, 2 仄起入韵, 3 平起入韵 (2nd character decides).
    assert [WUJUE.variants[v].name[:2] for v in proc.alive_variants(0)] == ["仄起", "仄起"]
    assert [WUJUE.variants[v].name[:2] for v in proc.alive_variants(1)] == ["平起", "平起"]
    assert proc.alive_variants(2) == [0, 1, 2, 3]  # polyphonic keeps every reading open


# -- rhyme -------------------------------------------------------------------------------------


def test_first_rhyme_character_fixes_the_group(tok, masks: VocabMasks) -> None:
    proc = processor(masks, *[PoemSpec(WUJUE, repeat="none", variants=(0,))] * 2)
    line3 = "。酒年烟石落，鸟草柳泉"
    steps = walk(proc, tok, ["东月天前白，田风中夜红" + line3, "东月天前白，田风中夜边" + line3])
    # The first rhyme position offers every wide 平声 group (not 删: one character here).
    assert steps[10][0] == (DONG_RHYME | XIAN_RHYME) - set("东月天前白田风中夜")
    assert proc.rhyme_groups(0) == ["上平一东"] and proc.rhyme_groups(1) == ["下平一先"]
    assert steps[22][0] == DONG_RHYME - set("东风中红")
    assert steps[22][1] == XIAN_RHYME - set("天前田边年烟泉")


def test_first_line_rhyme_variant(tok, masks: VocabMasks) -> None:
    # 仄起: line 0 is A5 中仄平平仄 (不入韵) or D5 中仄仄平平 (入韵); a polyphonic 3rd keeps both.
    proc = processor(masks, *[PoemSpec(WUJUE, repeat="none")] * 2)
    steps = walk(proc, tok, ["东月中前红", "东月中前白"])
    assert steps[4][0] == (ZE_OK | DONG_RHYME | XIAN_RHYME) - set("东月中前")  # not 山: narrow group
    assert proc.alive_variants(0) == [2] and proc.rhyme_groups(0) == ["上平一东"]
    assert proc.alive_variants(1) == [0] and proc.rhyme_groups(1) == ["上平一东", "下平一先"]


def test_user_chosen_rhyme_group(tok, masks: VocabMasks) -> None:
    steps = single(processor(masks, PoemSpec(WUJUE, rhyme_gid="下平一先", variants=(0,))), tok, POEM[:10])
    assert steps[10] == XIAN_RHYME - set("天前田")


def test_named_narrow_group_is_allowed(tok, masks: VocabMasks) -> None:
    steps = single(processor(masks, PoemSpec(WUJUE, rhyme_gid="上平十五删", variants=(0,))), tok, POEM[:10])
    assert steps[10] == {"山"}


# -- heads (藏头) --------------------------------------------------------------------------------


def test_heads_fix_first_characters_and_are_reserved(tok, masks: VocabMasks) -> None:
    proc = processor(masks, PoemSpec(WUJUE, heads=("月", "山", "天", "客"), repeat="none", variants=(0,)))
    steps = single(proc, tok, "月空前年白，山")
    assert steps[0] == {"月"}
    assert steps[1] == ZE_OK - {"月", "客"}  # 客 waits for line 3
    assert steps[2] == PING_OK - {"空", "山", "天"}
    assert steps[6] == {"山"}


def test_repeated_heads_are_honoured(tok, masks: VocabMasks) -> None:
    proc = processor(masks, PoemSpec(WUJUE, heads=("东",) * 4, variants=(0,)))
    steps = single(proc, tok, "东月天前白，东风中夜红。东年烟石落，东草柳泉通。")
    assert [steps[s] for s in (0, 6, 12, 18)] == [{"东"}] * 4
    assert all("东" not in steps[s] for s in range(24) if s not in (0, 6, 12, 18))


def test_heads_are_validated(masks: VocabMasks) -> None:
    with pytest.raises(PoetcoreInputError) as exc:
        processor(masks, PoemSpec(WUJUE, heads=("春", "夏", "秋", "冬")))
    assert exc.value.code == "head_not_in_vocab" and "春" in exc.value.message_zh
    with pytest.raises(ValueError, match=r"3 characters; 五绝 needs 4"):
        PoemSpec(WUJUE, heads=("东", "风", "红"))
    with pytest.raises(ValueError, match="one character"):
        PoemSpec(WUJUE, heads=("东风", "红", "同", "通"))


def test_heads_that_fit_no_variant_are_refused(masks: VocabMasks) -> None:
    # No real form fixes a line's first tone (see the test below), so use a chart that does.
    strict = FormTemplate("试平", (FormVariant("平起", ("平仄", "仄平"), (1,)),))
    table = masks.table
    assert feasible_variants(PoemSpec(strict, heads=("东", "月")), table) == (0,)
    assert feasible_variants(PoemSpec(strict, heads=("月", "月")), table) == ()
    with pytest.raises(PoetcoreInputError) as exc:
        processor(masks, PoemSpec(strict, heads=("月", "月")))
    assert exc.value.code == "heads_conflict"


@pytest.mark.parametrize("form", FORMS.values(), ids=list(FORMS))
def test_every_head_tone_combination_fits_a_real_form(form: FormTemplate) -> None:
    """Why `heads_conflict` cannot fire for the shipped forms: every chart line starts with 中.

    The four line types (A/B/C/D, 五言 and 七言) leave the first character free; the B line's 孤平
    rule only ties it to the third character, which stays free to rescue it. So any tone on any
    head fits some variant, and the conflict path is reachable only for custom forms.
    """
    table = RhymeTable.default()
    assert {line[0] for v in form.variants for line in v.lines} == {"中"}
    for combo in product("东月", repeat=form.n_lines):
        assert feasible_variants(PoemSpec(form, heads=combo), table), combo


# -- repeats -------------------------------------------------------------------------------------


def test_repeat_policies(tok, masks: VocabMasks) -> None:
    proc = processor(masks, *(PoemSpec(TOY, repeat=r) for r in ("none", "dieci", "any")))
    steps = walk(proc, tok, ["中"] * 3)
    assert ["中" in row for row in steps[1]] == [False, True, True]
    steps = walk(processor(masks, *(PoemSpec(TOY, repeat=r) for r in ("dieci", "any"))), tok, ["中中"] * 2)
    assert ["中" in row for row in steps[2]] == [False, True]  # 叠字 is two, never three


def test_a_rhyme_character_rhymes_once_even_when_repeats_are_allowed(tok, masks: VocabMasks) -> None:
    # repeat=any lets 东 stand anywhere again, but not at a second rhyme position: the checker calls
    # that 重韵 (found by the composer's property test with a random model).
    rhymes_twice = FormTemplate("试", (FormVariant("toy", ("中中平", "中中平"), (0, 1)),))
    steps = single(processor(masks, PoemSpec(rhymes_twice, repeat="any")), tok, "中中东，东中")
    assert "东" in steps[4] and "东" not in steps[6] and "红" in steps[6]


def test_dieci_is_adjacent_only_and_not_across_lines(tok, masks: VocabMasks) -> None:
    proc = processor(masks, PoemSpec(TOY), PoemSpec(TOY, repeat="any"))
    steps = walk(proc, tok, ["中空月，"] * 2)
    assert "中" not in steps[2][0] and "中" in steps[2][1]  # not adjacent
    assert "月" not in steps[4][0] and "月" in steps[4][1]  # previous line's last character


# -- scores, failures, composition with other processors -------------------------------------------


def test_scores_not_modified_in_place(tok, masks: VocabMasks) -> None:
    proc = processor(masks, PoemSpec(WUJUE, topic="月天"))
    scores = torch.randn(1, len(tok), generator=torch.Generator().manual_seed(0))
    before = scores.clone()
    out = proc(torch.full((1, 3), tok.bos_token_id), scores)
    assert torch.equal(scores, before) and out is not scores


def test_topic_characters_get_the_bias_where_allowed(tok, masks: VocabMasks) -> None:
    proc = processor(masks, PoemSpec(WUJUE, topic="月天a" + UNKNOWN, repeat="none", variants=(0,)), topic_bias=2.0,
                     topic_margin=100.0)
    assert names(tok, proc.bias[0] != 0) == {"月", "天"}  # no bias for what can never be written
    scores = torch.randn(1, len(tok), generator=torch.Generator().manual_seed(1))
    out = proc(torch.full((1, 3), tok.bos_token_id), scores)
    for ch in KNOWN:
        i = tok.convert_tokens_to_ids(ch)
        want = scores[0, i] + (2.0 if ch in "月天" else 0.0)
        assert torch.isclose(out[0, i], want), ch
    # After 月 is written it is no longer allowed, so no longer favoured.
    ids = torch.tensor([[tok.bos_token_id] * 3 + tokens_of(tok, "月")])
    out = proc(ids, scores)
    assert torch.isneginf(out[0, tok.convert_tokens_to_ids("月")])


def test_topic_bias_only_where_the_lm_finds_the_character_plausible(tok, masks: VocabMasks) -> None:
    proc = processor(masks, PoemSpec(WUJUE, topic="月天", variants=(0,)), topic_bias=2.0, topic_margin=3.0)
    scores = torch.zeros(1, len(tok))
    ids = {ch: tok.convert_tokens_to_ids(ch) for ch in "东月天"}
    scores[0, ids["东"]] = 5.0  # the LM's favourite
    scores[0, ids["月"]] = 2.5  # within 3 nats of it: favoured
    scores[0, ids["天"]] = 1.0  # 4 nats below: left as the LM sees it
    out = proc(torch.full((1, 3), tok.bos_token_id), scores)
    assert float(out[0, ids["月"]]) == pytest.approx(4.5)
    assert float(out[0, ids["天"]]) == pytest.approx(1.0)
    assert float(out[0, ids["东"]]) == pytest.approx(5.0)


def test_topic_opening_off_keeps_the_topic_out_of_the_opening(tok, masks: VocabMasks) -> None:
    """topic_opening=False: no topic character opens the poem, and the topic bias waits for line 2."""
    scores = torch.zeros(1, len(tok))
    field, red, east = (tok.convert_tokens_to_ids(ch) for ch in "田红东")
    spec = PoemSpec(WUJUE, topic="田红", repeat="none", variants=(0,))
    on = processor(masks, spec, topic_bias=2.0, topic_margin=100.0)
    assert float(on(torch.full((1, 3), tok.bos_token_id), scores)[0, field]) == pytest.approx(2.0)
    off = processor(masks, spec, topic_bias=2.0, topic_margin=100.0, topic_opening=False)
    opening = POEM[:6]  # 东月天前白，: no topic character
    for k in range(len(opening) + 1):
        out = off(torch.tensor([[tok.bos_token_id] * 3 + tokens_of(tok, opening[:k])]), scores)
        if k == 0:  # the first character: anything the chart allows but the topic
            assert torch.isneginf(out[0, field]) and torch.isneginf(out[0, red]) and float(out[0, east]) == 0.0
        if k == 2:  # still the opening line (a 平 position): the topic may come, unbiased
            assert float(out[0, field]) == 0.0
    assert float(out[0, field]) == pytest.approx(2.0)  # line 2 opens with the bias back (田风中夜红)


def test_a_written_topic_character_loses_its_bias_so_it_is_not_doubled(tok, masks: VocabMasks) -> None:
    # 叠字 would allow 月月; the bias must not push the second 月 (故故人, 西西 came from this).
    proc = processor(masks, PoemSpec(WUJUE, topic="月天", repeat="dieci"), topic_bias=2.0, topic_margin=100.0)
    scores = torch.zeros(1, len(tok))
    moon = tok.convert_tokens_to_ids("月")
    first = proc(torch.full((1, 3), tok.bos_token_id), scores)
    assert float(first[0, moon]) == pytest.approx(2.0)
    second = proc(torch.tensor([[tok.bos_token_id] * 3 + tokens_of(tok, "月")]), scores)
    assert torch.isneginf(second[0, moon])  # no 叠字 of a topic character at all
    assert float(second[0, tok.convert_tokens_to_ids("天")]) == pytest.approx(2.0)
    # Other characters keep their 叠字: 白白 is fine in a poem on 月天.
    other = processor(masks, PoemSpec(WUJUE, topic="月天", repeat="dieci"), topic_bias=2.0, topic_margin=100.0)
    other(torch.full((1, 3), tok.bos_token_id), scores)
    after_white = other(torch.tensor([[tok.bos_token_id] * 3 + tokens_of(tok, "白")]), scores)
    assert not torch.isneginf(after_white[0, tok.convert_tokens_to_ids("白")])


def test_rhyme_usage_keeps_rare_readings_out_of_generated_rhymes(tok) -> None:
    from collections import Counter

    from poetcore.lexicon.rhyme_usage import RhymeUsage

    # 天 rhymes in 先 all the time, 年 never does in this made-up corpus: only 天 may rhyme there.
    usage = RhymeUsage({"下平一先": Counter({"天": 50, "前": 40}), "上平一东": Counter(dict.fromkeys(DONG + POLY, 30))})
    plain, common = VocabMasks(tok, RhymeTable.default()), VocabMasks(tok, RhymeTable.default(), usage)
    xian = plain.group_index["下平一先"]
    assert names(tok, plain.group_mask[xian]) == set(XIAN)
    assert names(tok, common.group_mask[xian]) == {"天", "前"}
    year = tok.convert_tokens_to_ids("年")
    ci_xian = plain.group_index["部7平"]  # 先 is 词林正韵 第七部
    assert common.groups_of[year] == plain.groups_of[year] == frozenset({xian, ci_xian})  # the user's 年 still rhymes
    assert common.rhyme_groups_of[year] == frozenset()
    proc = processor(common, PoemSpec(WUJUE, rhyme_gid="下平一先", repeat="none", variants=(0,)))
    steps = single(proc, tok, "东月烟边白，田风中夜")
    assert steps[-1] == {"天", "前"}  # 年 眠 船 … are table readings nobody rhymes (here)


@pytest.fixture(scope="module")
def season_masks(tok) -> VocabMasks:
    from poetcore.lexicon.seasons import SeasonLexicon

    return VocabMasks(tok, RhymeTable.default(), seasons=SeasonLexicon({"雪": "冬", "柳": "春", "叶": "秋"}))


def off_season(tok, out: torch.Tensor) -> set[str]:
    """The season characters pushed down (not forbidden: -inf means the chart rules them out here)."""
    return {ch for ch in "雪柳叶" if -1e9 < float(out[0, tok.convert_tokens_to_ids(ch)]) < 0}


def test_a_topic_season_keeps_other_seasons_out(tok, season_masks: VocabMasks) -> None:
    proc = processor(season_masks, PoemSpec(WUJUE, topic="雪天", variants=(0,)), season_penalty=3.0, topic_margin=0.0)
    out = proc(torch.full((1, 3), tok.bos_token_id), torch.zeros(1, len(tok)))
    assert off_season(tok, out) == {"柳", "叶"}
    assert float(out[0, tok.convert_tokens_to_ids("柳")]) == pytest.approx(-3.0)


def test_the_first_seasonal_character_sets_the_season(tok, season_masks: VocabMasks) -> None:
    proc = processor(season_masks, PoemSpec(WUJUE, variants=(0,)), season_penalty=3.0)
    first = proc(torch.full((1, 3), tok.bos_token_id), torch.zeros(1, len(tok)))
    assert off_season(tok, first) == set()  # no season yet
    proc(torch.tensor([[tok.bos_token_id] * 3 + tokens_of(tok, "东")]), torch.zeros(1, len(tok)))
    after = proc(torch.tensor([[tok.bos_token_id] * 3 + tokens_of(tok, "东柳")]), torch.zeros(1, len(tok)))
    assert off_season(tok, after) == set()  # positions 2 and 3 are 平: no season character may stand there
    proc(torch.tensor([[tok.bos_token_id] * 3 + tokens_of(tok, "东柳烟")]), torch.zeros(1, len(tok)))
    later = proc(torch.tensor([[tok.bos_token_id] * 3 + tokens_of(tok, "东柳烟边")]), torch.zeros(1, len(tok)))
    assert off_season(tok, later) == {"雪", "叶"}  # 仄 again: the spring poem keeps winter and autumn out


def test_a_season_word_of_another_season_is_pushed_down_and_sets_the_season(tok) -> None:
    from poetcore.lexicon.seasons import SeasonLexicon

    masks = VocabMasks(tok, RhymeTable.default(), seasons=SeasonLexicon({"雪": "冬"}, words={"东风": "春"}))
    winter = PoemSpec(TOY, topic="雪", repeat="any")
    proc = processor(masks, winter, PoemSpec(TOY, repeat="any"), season_penalty=3.0, topic_bias=0.0)
    wind = tok.convert_tokens_to_ids("风")
    snow = tok.convert_tokens_to_ids("雪")
    start = torch.full((2, 3), tok.bos_token_id)
    proc(start, torch.zeros(2, len(tok)))
    out = proc(torch.cat([start, torch.tensor([tokens_of(tok, "东")] * 2)], 1), torch.zeros(2, len(tok)))
    assert float(out[0, wind]) == pytest.approx(-3.0)  # 东风 in a winter poem
    assert float(out[1, wind]) == 0.0  # no season yet: 东风 may set it
    out = proc(torch.cat([start, torch.tensor([tokens_of(tok, "东风")] * 2)], 1), torch.zeros(2, len(tok)))
    assert float(out[1, snow]) == pytest.approx(-3.0)  # row 1 is a spring poem now
    assert float(out[0, snow]) == 0.0


def test_a_character_out_of_place_in_the_poems_season_is_pushed_down(tok) -> None:
    from poetcore.lexicon.seasons import SeasonLexicon

    masks = VocabMasks(tok, RhymeTable.default(), seasons=SeasonLexicon({"叶": "秋"}, rare_in={"雪": "秋夏"}))
    proc = processor(masks, PoemSpec(TOY, topic="叶"), PoemSpec(TOY, topic="柳"), season_penalty=3.0, topic_bias=0.0)
    out = proc(torch.full((2, 3), tok.bos_token_id), torch.zeros(2, len(tok)))
    snow = tok.convert_tokens_to_ids("雪")
    assert float(out[0, snow]) == pytest.approx(-3.0) and float(out[1, snow]) == 0.0  # autumn vs no season


def test_only_the_corpus_licensed_dieci_are_written(tok) -> None:
    masks = VocabMasks(tok, RhymeTable.default(), reduplicated=frozenset("年"))
    steps = walk(processor(masks, PoemSpec(TOY), PoemSpec(TOY)), tok, ["年", "中"])
    assert "年" in steps[1][0] and "中" not in steps[1][1]  # 年年, but no 中中
    steps = walk(processor(masks, PoemSpec(TOY), PoemSpec(TOY, repeat="any")), tok, ["中", "中"])
    assert "中" in steps[1][1]  # repeat=any is the user's call


def test_a_topic_with_two_seasons_turns_the_rule_off(tok, season_masks: VocabMasks) -> None:
    proc = processor(season_masks, PoemSpec(WUJUE, topic="雪柳", variants=(0,)), season_penalty=3.0, topic_margin=0.0)
    proc(torch.full((1, 3), tok.bos_token_id), torch.zeros(1, len(tok)))
    out = proc(torch.tensor([[tok.bos_token_id] * 3 + tokens_of(tok, "东")]), torch.zeros(1, len(tok)))
    assert off_season(tok, out) == set()
    with pytest.raises(ValueError, match="season_penalty"):
        processor(season_masks, PoemSpec(WUJUE), season_penalty=-1.0)


# Row 0 names the narrow 删 group: its only character is used at line 1, so line 3 has nothing.
STUCK = "东月天前白，田风中夜山。酒年烟石落，鸟草柳泉"
FINE = "东月天前白，田风中夜眠。酒年烟石落，鸟草柳泉"


def stuck_and_fine() -> tuple[PoemSpec, PoemSpec]:
    return (
        PoemSpec(WUJUE, rhyme_gid="上平十五删", repeat="none", variants=(0,)),
        PoemSpec(WUJUE, repeat="none", variants=(0,)),
    )


def test_row_with_nothing_allowed_strict_raises(tok, masks: VocabMasks) -> None:
    proc = processor(masks, *stuck_and_fine(), strict=True)
    with pytest.raises(ValueError, match=r"rows \[0\] have no allowed token at step 22"):
        walk(proc, tok, [STUCK, FINE])


def test_row_with_nothing_allowed_fails_alone(tok, masks: VocabMasks) -> None:
    proc = processor(masks, *stuck_and_fine())
    steps = walk(proc, tok, [STUCK + "|", FINE + "边"])
    assert steps[22] == [{EOS}, XIAN_RHYME - set("天前田眠年烟泉")]
    assert proc.failed == [True, False]
    assert steps[23] == [{EOS, PAD}, {"。"}]


def test_default_groups_exclude_narrow_ones(masks: VocabMasks) -> None:
    proc = processor(masks, PoemSpec(WUJUE))
    assert proc.rhyme_groups(0) == ["上平一东", "下平一先"]


def test_processor_list_matches_direct_calls(tok, masks: VocabMasks) -> None:
    spec = PoemSpec(WUJUE, topic="风月")
    direct, listed = processor(masks, spec, spec), processor(masks, spec, spec)
    chain = LogitsProcessorList([TemperatureLogitsWarper(0.7), listed])
    gen = torch.Generator().manual_seed(2)
    ids = torch.full((2, 3), tok.bos_token_id)
    for _ in range(26):
        scores = torch.randn(2, len(tok), generator=gen)
        a = direct(ids, TemperatureLogitsWarper(0.7)(ids, scores))
        b = chain(ids, scores)
        assert torch.equal(a, b)
        ids = torch.cat([ids, a.argmax(-1, keepdim=True)], dim=1)
    text = tok.decode(ids[0, 3:], skip_special_tokens=True)
    assert check(text, form="五绝").ok, text
    assert direct.failed == listed.failed == [False, False]


# -- __init__ validation -----------------------------------------------------------------------------


def test_init_validation_names_the_bad_value(masks: VocabMasks) -> None:
    with pytest.raises(ValueError, match="at least one row"):
        PoemConstraintLogitsProcessor([], masks, prompt_length=0)
    with pytest.raises(ValueError, match="got -1"):
        PoemConstraintLogitsProcessor([PoemSpec(WUJUE)], masks, prompt_length=-1)
    with pytest.raises(ValueError, match="got nan"):
        processor(masks, PoemSpec(WUJUE), topic_bias=float("nan"))
    with pytest.raises(ValueError, match="入声一屋"):
        processor(masks, PoemSpec(WUJUE, rhyme_gid="入声一屋"))
    with pytest.raises(ValueError, match="'twice'"):
        PoemSpec(WUJUE, repeat="twice")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"\(4,\)"):
        PoemSpec(WUJUE, variants=(4,))


def test_call_before_the_prompt_ends_is_an_error(tok, masks: VocabMasks) -> None:
    proc = processor(masks, PoemSpec(WUJUE))
    with pytest.raises(ValueError, match="shorter"):
        proc(torch.full((1, 2), tok.bos_token_id), torch.zeros(1, len(tok)))


def test_each_step_must_be_seen_exactly_once(tok, masks: VocabMasks) -> None:
    # The processor learns the poem from the last token of each call: a repeated or skipped step
    # would corrupt its state silently, so it refuses.
    proc = processor(masks, PoemSpec(WUJUE))
    ids = torch.full((1, 3), tok.bos_token_id)
    proc(ids, torch.zeros(1, len(tok)))
    with pytest.raises(ValueError, match="expected generation step 1, got 0"):
        proc(ids, torch.zeros(1, len(tok)))
    ids = torch.tensor([[tok.bos_token_id] * 3 + tokens_of(tok, "东月")])
    with pytest.raises(ValueError, match="expected generation step 1, got 2"):
        proc(ids, torch.zeros(1, len(tok)))


def test_a_mixed_batch_of_forms_decodes_every_row_to_a_valid_poem(tok, masks: VocabMasks) -> None:
    """Rows of different forms (layouts of different lengths) and rows that fail share one batch;
    every row that finishes is a valid poem of its own form (random logits, greedy)."""
    toy4 = FormTemplate("试四", (FormVariant("toy4", ("中中平", "中中仄", "中仄平", "中平平"), (0, 3)),))
    specs = [PoemSpec(WUJUE), PoemSpec(toy4, repeat="any"), PoemSpec(WUJUE, rhyme_gid="上平十五删", repeat="none"),
             PoemSpec(TOY, repeat="any"), PoemSpec(WUJUE, repeat="none")]
    proc = processor(masks, *specs)
    gen = torch.Generator().manual_seed(7)
    ids = torch.full((len(specs), 3), tok.bos_token_id)
    for _ in range(proc.max_new_tokens + 1):
        out = proc(ids, torch.randn(len(specs), len(tok), generator=gen))
        ids = torch.cat([ids, out.argmax(-1, keepdim=True)], dim=1)
    texts = [tok.decode(row[3:], skip_special_tokens=True) for row in ids]
    assert check(texts[0], form="五绝").ok and check(texts[4], form="五绝").ok, texts
    assert proc.failed[2]  # the narrow 删 group runs dry in a five-character toy vocabulary
    for b in (1, 3):
        lines = texts[b].replace("。", "，").strip("，").split("，")
        assert [len(line) for line in lines] == list(specs[b].form.line_lengths), texts[b]
