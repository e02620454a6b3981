"""How the games meet the corpus's own text: variant characters, slips of famous lines, one line
written two ways. Through the chat core, against a real Redis and the built-in line index."""

from __future__ import annotations

import pytest
from support.games import Group
from support.settings import make_bot_settings

from bots.core.chat import ChatCore
from bots.core.games.jieju import JiejuGame, judge_answer
from bots.core.settings import BotSettings


@pytest.fixture
def bot_settings() -> BotSettings:
    return make_bot_settings(game_chat_limit=100)


@pytest.fixture
def group(core: ChatCore) -> Group:
    return Group(core)


async def test_feihua_accepts_the_corpus_text_written_otherwise_and_shows_it(group: Group) -> None:
    assert (await group.one("u1", "/fhl 风")).startswith("🌸 飞花令开局！令字「风」")
    # 薰 in the package, 熏 as people write it: one line.
    variant = await group.one("u1", "/a 暖风熏得游人醉")
    assert variant == "✅ 暖风熏得游人醉 —— 宋·林升《题临安邸》（诗库作「暖风薰得游人醉」） · 张三 +2 分（共 2 分）"
    # The same corpus line again, in the package's own characters: already used.
    assert (await group.one("u2", "/a 暖风薰得游人醉")) == "❌ 「暖风薰得游人醉」已经有人用过（张三）。"
    # A reviewed correction: the package's 把洒 is gone, the known text is simply right.
    fixed = await group.one("u2", "/a 春风又绿江南岸")
    assert fixed == "✅ 春风又绿江南岸 —— 宋·王安石《泊船瓜洲》 · 李四 +2 分（共 2 分）"
    # One character off a famous line: taken for it, with the corpus text.
    slip = await group.one("u3", "/a 随风潜入液")
    assert slip.startswith("✅ 随风潜入液 —— 唐·杜甫《春夜喜雨》（诗库作「随风潜入夜」）")


async def test_a_slip_never_supplies_the_token(group: Group) -> None:
    await group.one("u1", "/fhl 日")
    # 举头望明日 is 举头望明月 with the 令字 in place of 月: refused (a near miss must hold the 令字 too).
    refused = await group.one("u1", "/a 举头望明日")
    assert refused.startswith("❌") and "举头望明月" not in refused


def test_jieju_takes_an_answer_written_with_variant_characters() -> None:
    game = JiejuGame(starter="u1", starter_name="张三", total=1, timeout_s=40)
    game.ask("京口瓜洲一水间", "钟山祇隔数重山", "宋·王安石《泊船瓜洲》", 1, 0.0)
    assert judge_answer(game, "钟山只隔数重山") == "correct"
    assert judge_answer(game, "钟山只隔万重山") == "near"
