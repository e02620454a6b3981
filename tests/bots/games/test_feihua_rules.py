"""飞花令 rules: pure functions, no Redis, no index."""

from __future__ import annotations

import pytest

from bots.core.games.feihua import (
    HINTED_POINTS,
    LINE_POINTS,
    FeihuaGame,
    accept,
    judge,
    mask,
    parse_start,
    required_position,
)
from bots.core.games.rules import GameInputError, answer_lines, looks_like_line, standings


def game(**kw: object) -> FeihuaGame:
    base: dict[str, object] = {"token": "月", "starter": "u1", "starter_name": "甲", "timeout_s": 60, "deadline": 100.0}
    return FeihuaGame(**{**base, **kw})  # type: ignore[arg-type]


def test_parse_start_options() -> None:
    assert parse_start("") == parse_start("   ")
    opts = parse_start("花 古法 对战 简单 限时=30")
    assert (opts.token, opts.classic, opts.versus, opts.level, opts.timeout_s) == ("花", True, True, "easy", 30)
    assert parse_start("明月").token == "明月" and parse_start("風").token == "风"
    assert parse_start("").token is None
    for bad, key in (("春风吹", "fhl_bad_token"), ("moon", "fhl_bad_option"), ("限时=5", "fhl_bad_timeout"),
                     ("月 月光", "fhl_bad_option"), ("🌕", "fhl_bad_option")):
        with pytest.raises(GameInputError) as info:
            parse_start(bad)
        assert info.value.key == key, bad


def test_judge_every_reason() -> None:
    g = game()
    found = (5, "唐·李白《静夜思》")
    assert judge(g, "月", None).kind == "too_short"
    assert judge(g, "月" * 13, None).kind == "too_long"
    assert judge(g, "春眠不觉晓", (1, "x")).kind == "no_token"
    assert judge(g, "月亮真好看啊", None).kind == "not_found"
    near = judge(g, "举头望明日月", None, near=(5, "举头望明月", "唐·李白《静夜思》"))
    assert (near.kind, near.real, near.source) == ("near_miss", "举头望明月", "唐·李白《静夜思》")
    ok = judge(g, "舉頭望明月！", found)
    assert (ok.kind, ok.line, ok.line_id) == ("accepted", "举头望明月", 5)
    accept(g, ok, "u1", "甲", now=10.0)
    repeat = judge(g, "举头望明月", found)
    assert (repeat.kind, repeat.by) == ("repeat", "甲")


def test_accept_scores_and_restarts_the_clock() -> None:
    g = game(hinted=[7])
    v1 = judge(g, "床前明月光", (3, "s"))
    assert accept(g, v1, "u1", "甲", now=50.0) == LINE_POINTS
    assert g.deadline == 110.0 and g.turn == 1 and g.used == {"床前明月光": "甲"}
    v2 = judge(g, "明月松间照", (7, "s"))
    assert accept(g, v2, "u2", "乙", now=60.0) == HINTED_POINTS  # the line was given away as a hint
    assert standings(g) == [("u1", "甲", 2, 1), ("u2", "乙", 1, 1)]


def test_classic_mode_cycles_the_position() -> None:
    g = game(classic=True)
    assert required_position(g) == 1
    assert judge(g, "床前明月光", (1, "s")).kind == "wrong_position"
    assert judge(g, "月落乌啼霜满天", (2, "s")).kind == "accepted"
    positions = []
    for turn in range(9):
        g.turn = turn
        positions.append(required_position(g))
    assert positions == [1, 2, 3, 4, 5, 6, 7, 1, 2]
    g.turn = 5  # position 6: only a seven-character line can hold it
    assert judge(g, "举头望明月", (3, "s")).kind == "wrong_position"
    assert judge(g, "春江潮水连月海", (4, "s")).kind == "accepted"
    assert required_position(game()) is None


def test_looks_like_line_and_mask() -> None:
    assert looks_like_line("举头望明月") and looks_like_line("「舉頭望明月，」")
    assert not looks_like_line("哈哈") and not looks_like_line("ok 举头望明月") and not looks_like_line("月" * 13)
    assert looks_like_line("黄河远上白云间，一片孤城万仞山") and looks_like_line("国破山河在 城春草木深")  # couplets
    assert not looks_like_line("春" * 5 + "，" + "秋" * 13) and not looks_like_line("，".join(["春风拂面"] * 5))
    assert mask("缺月挂疏桐", "月") == "缺月○○○"
    assert mask("床前明月光", "明月") == "床○明月○"


def test_answer_lines_part_a_couplet_but_not_a_line() -> None:
    assert answer_lines("國破山河在，城春草木深。") == ["国破山河在", "城春草木深"]
    assert answer_lines("国破山河在 城春草木深") == ["国破山河在", "城春草木深"]  # a space between halves
    assert answer_lines("举头 望明月！") == ["举头望明月"]  # a short piece: one line with a space in it
    assert answer_lines("争渡，争渡") == ["争渡争渡"]
    assert answer_lines("床前明月光") == ["床前明月光"] and answer_lines("🌕") == [""]


def test_state_round_trips_through_json() -> None:
    g = game(classic=True, versus=True)
    accept(g, judge(g, "月落乌啼霜满天", (2, "s")), "u1", "甲", now=1.0)
    assert FeihuaGame.from_dict(g.to_dict()) == g
    assert FeihuaGame.from_dict({**g.to_dict(), "future_field": 1}) == g  # newer state keys are ignored
