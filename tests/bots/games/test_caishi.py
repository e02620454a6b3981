"""猜诗句: Wordle marks (pure), and a game to a win through the chat core with real Redis."""

from __future__ import annotations

import pytest
from support.games import Group
from support.settings import make_bot_settings

from bots.core.chat import ChatCore
from bots.core.games.caishi import MAX_GUESSES, char_marks, tone_marks
from bots.core.settings import BotSettings


def test_char_marks_count_repeats_like_wordle() -> None:
    assert char_marks("床前明月光", "床前明月光") == "🟩🟩🟩🟩🟩"
    assert char_marks("明月松间照", "床前明月光") == "🟨🟨⬜⬜⬜"
    assert char_marks("月月月月月", "床前明月光") == "⬜⬜⬜🟩⬜"  # one 月 in the answer: one mark
    assert char_marks("明明月月光", "床前明月光") == "🟨⬜⬜🟩🟩"  # 明 once in the answer; 月 is green already
    assert tone_marks("白日依山尽", "白日依山尽") == "🟩🟩🟩🟩🟩"
    assert "⬜" in tone_marks("平平平平平", "仄仄仄仄仄")


@pytest.fixture
def bot_settings() -> BotSettings:
    return make_bot_settings(game_chat_limit=100)


async def test_a_game_to_a_win_with_refused_guesses(core: ChatCore) -> None:
    group = Group(core)
    intro, board = await group.say("u1", "/cai 5")
    assert intro.text.startswith("🧩 猜诗句：一句 5 字的名句") and board.board_key
    assert board.text.startswith(f"🧩 猜诗句（5 字）· 还剩 {MAX_GUESSES} 次") and board.edit_message_id is None
    game = core.games.store.load("telegram", group.chat)
    assert game is not None
    answer = game.answer  # type: ignore[union-attr]
    # The front-end remembers the board's message id; later moves edit it.
    await core.remember_board("telegram", board.board_key or "", "555")
    assert (await group.one("u2", "/a 天地玄黄宇")) == "❌ 「天地玄黄宇」不在诗库里，不算次数。"
    assert (await group.one("u2", "/a 月落乌啼霜满天")) == "❌ 要猜 5 字的句子（这次不算）。"
    wrong = next(r.text for r in core.games.index.with_char("月", lengths=(5,), limit=10) if r.text != answer)
    edited, ack = await group.say("u2", f"/a {wrong}")
    assert edited.edit_message_id == "555" and f"还剩 {MAX_GUESSES - 1} 次" in edited.text
    assert wrong in edited.text and "李四" in edited.text and "平仄" in edited.text
    # The board changes up where it was sent: a short reply shows the guess landed.
    assert ack.text == f"🧩 第 1 猜：{wrong}　{char_marks(wrong, answer)}（还剩 {MAX_GUESSES - 1} 次）"
    assert ack.reply_to_message_id == str(group.count) and ack.edit_message_id is None
    assert (await group.one("u1", "/hint")).startswith("💡 提示（1/1，猜诗句只有这一条）：出自 ")
    assert (await group.one("u3", f"/a {wrong}")) == f"❌ 「{wrong}」已经猜过了。"
    assert await group.say("u3", "今天天气真好") == []  # chatter is not a guess
    final, won = await group.say("u3", answer)  # a plain guess
    assert final.edit_message_id == "555" and "🟩🟩🟩🟩🟩" in final.text
    assert won.text.startswith(f"🎉 王五 猜中了：{answer} —— ") and f"+{MAX_GUESSES - 2 + 1} 分" in won.text
    assert core.games.store.load("telegram", group.chat) is None
    assert "王五" in await group.one("u1", "/rank")


async def test_nobody_guesses_it_in_time(core: ChatCore) -> None:
    group = Group(core)
    intro, _board = await group.say("u1", "/cai")
    assert "内置名篇库" in intro.text  # the players are told the small index judges
    game = core.games.store.load("telegram", group.chat)
    assert game is not None
    length = len(game.answer)  # type: ignore[union-attr]
    wrong = next(r.text for r in core.games.index.with_char("月", lengths=(length,), limit=10)
                 if r.text != game.answer)  # type: ignore[union-attr]
    [board] = await group.say("u2", f"/a {wrong}")  # the board was never remembered: a new one, seen as it is
    assert board.edit_message_id is None and wrong in board.text
    [over] = await group.tick(after_s=core.settings.cai_timeout_s + 1)
    assert over.startswith("没有猜中。答案是：")
    assert await group.one("u1", "/cai 9") == "可以写 /cai、/cai 5 或 /cai 7（句子的字数）。"
