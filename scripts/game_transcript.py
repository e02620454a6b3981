"""Play every game branch through ChatCore with a seeded RNG and print what the bot says (JSON): the
proof that a refactor left game transcripts unchanged.

Run against the old tree and the new one; the outputs must be identical.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

import redis

from bots.core.chat import ChatCore
from bots.core.models import IncomingMessage
from bots.core.settings import BotSettings
from worker.contract.redis_server import RedisServer
from worker.contract.service import PoemService
from worker.contract.settings import QueueSettings

try:
    from bots.core import keys as bot_keys  # after the move
except ImportError:
    from worker.contract import keys as bot_keys  # type: ignore[no-redef]

LOG: list[object] = []


def settings(**kw: object) -> BotSettings:
    return BotSettings(_env_file=None, **{"line_index": None, **kw})  # type: ignore[arg-type]


def rng_of(core: ChatCore):
    import random as _r
    sql_rng = _r.Random(99)
    core.games.index._db.create_function("random", 0, lambda: sql_rng.randint(-2**62, 2**62))
    games = core.games
    for name in ("_random", "random", "rng"):
        if hasattr(games, name):
            return getattr(games, name)
    raise SystemExit("no rng")


class Chat:
    def __init__(self, core: ChatCore, chat: str, group: bool = True, locale: str | None = None) -> None:
        self.core, self.chat, self.group, self.locale = core, chat, group, locale
        self.n = 0

    async def say(self, user: str, text: str, *, reply_to_bot: bool = False) -> list[list[object]]:
        self.n += 1
        msg = IncomingMessage("telegram", self.chat, user, text, locale=self.locale, message_id=str(self.n),
                              is_group=self.group, user_name={"u1": "张三", "u2": "李四", "u3": "王五"}.get(user, user),
                              reply_to_bot=reply_to_bot)
        out = await self.core.handle(msg)
        rows = [[o.text, o.reply_to_message_id, o.edit_message_id, bool(o.board_key)] for o in out]
        LOG.append([self.chat, user, text, rows])
        return rows

    async def tick(self, after: float) -> None:
        out = await self.core.games.tick("telegram", time.time() + after)
        LOG.append([self.chat, "tick", after, sorted([o.chat_id, o.text] for o in out)])

    def game(self):
        return self.core.games.store.load("telegram", self.chat)


async def main(url: str) -> None:
    svc = PoemService.from_url(url, QueueSettings(_env_file=None, redis_url=None))  # type: ignore[call-arg]
    core = ChatCore(svc, settings(game_chat_limit=100))
    rng_of(core).seed(7)
    conn = svc.connection

    # ---- 飞花令, group, everything
    g = Chat(core, "g1")
    for text in ("/fhl help", "/fhl 月亮光", "/fhl 月 限时=5", "/fhl 月 怪", "/fhl 月 hello", "/fhl 龘", "/a 床前明月光",
                 "/hint", "/stop", "/a", "/fhl 月"):
        await g.say("u1", text)
    for user, text in [("u1", "/a 床前明月光"), ("u2", "舉頭望明月。"), ("u3", "/a 举头望明月"), ("u3", "/a 明月几时来"),
                       ("u3", "/a 月亮月亮你真圆"), ("u3", "/a 春眠不觉晓"), ("u3", "/a 月"), ("u3", "/a " + "月" * 13),
                       ("u3", "今天月亮好圆啊"), ("u3", "哈哈"), ("u3", "明月松间照"), ("u1", "/a 月落乌啼霜满天"),
                       ("u2", "/hint"), ("u2", "/hint"), ("u2", "/hint"), ("u2", "/hint"), ("u2", "/fhl"), ("u2", "/jieju"),
                       ("u2", "/cai"), ("u2", "/stop"), ("u3", "月出惊山鸟", )]:
        await g.say(user, text)
    await g.say("u3", "海上生明月", reply_to_bot=True)
    await g.tick(0)
    await g.tick(50)
    await g.tick(50)
    await g.tick(61)
    await g.tick(120)
    await g.say("u1", "/a 床前明月光")
    await g.say("u1", "/rank")
    # classic, en locale, /stop by the starter
    c = Chat(core, "g2", locale="en-US")
    for user, text in [("u1", "/fhl 月 古法"), ("u1", "/a 床前明月光"), ("u1", "/fhl"), ("u1", "/a 月落乌啼霜满天"),
                       ("u2", "/a 明月松间照"), ("u2", "/a 床前明月光"), ("u2", "/hint"), ("u2", "/stop"), ("u1", "/stop"),
                       ("u1", "/rank"), ("u1", "/fhl 花 古法 对战 简单")]:
        await c.say(user, text)
    for _ in range(8):
        game = c.game()
        if game is None:
            break
        pos = (game.turn % 7) + 1
        lines = core.games.index.with_char("花", position=pos, lengths=(5, 7) if pos <= 5 else (7,),
                                          exclude=set(game.used_ids), limit=1)
        await c.say("u1", f"/a {lines[0].text}" if lines else "/a 花花花花花")
    await c.say("u1", "/stop")
    # random token, private versus, bot gives up (easy, tiny memory)
    easy = ChatCore(svc, settings(game_easy_rank=10))
    easy.games.__dict__.update({})
    p = Chat(core, "p1", group=False)
    await p.say("u1", "/fhl")
    await p.say("u1", "/fhl")
    await p.say("u1", "/stop")
    await p.say("u1", "/fhl 月")
    await p.say("u1", "/a 床前明月光")
    await p.say("u1", "/a 举头望明月")
    await p.say("u1", "/stop")
    e = Chat(easy, "p2", group=False)
    rng_of(easy).seed(3)
    await e.say("u1", "/fhl 月 简单 限时=30")
    known = [r.text for r in easy.games.index.with_char("月", lengths=(5, 7), max_rank=10, limit=10)]
    others = [r.text for r in easy.games.index.with_char("月", lengths=(5, 7), limit=40) if r.text not in known]
    for line in known + others:
        await e.say("u1", f"/a {line}")
        if e.game() is None:
            break
    # warning only when the round is long enough; short round timeout
    s = Chat(core, "g3")
    await s.say("u1", "/fhl 山 限时=20")
    await s.tick(10)
    await s.tick(21)

    # ---- flood control
    busy = ChatCore(svc, settings(game_chat_limit=3, game_flush_s=6))
    rng_of(busy).seed(5)
    b = Chat(busy, "g4")
    await b.say("u1", "/fhl 月")
    lines = [r.text for r in busy.games.index.with_char("月", lengths=(), limit=30)]
    for i, line in enumerate(lines[:12]):
        await b.say(f"u{i % 3 + 1}", f"/a {line}")
    await b.say("u1", "/a 月亮月亮你真圆")
    await b.say("u1", "/hint")
    await b.tick(3)
    await b.tick(7)
    await b.tick(8)
    big = ChatCore(svc, settings(game_chat_limit=1, game_flush_s=1))
    bb = Chat(big, "g5")
    await bb.say("u1", "/fhl 春")
    for i in range(130):
        await bb.say("u2", f"/a 春{'甲乙丙丁戊己庚辛壬癸'[i % 10]}不是诗句啊{i}")
    await bb.tick(2)

    # ---- 接句
    jcore = ChatCore(svc, settings(game_chat_limit=100, jieju_timeout_s=40))
    rng_of(jcore).seed(11)
    j = Chat(jcore, "g6")
    for text in ("/jieju 题数=99", "/jieju 明天", "/jieju 🌕", "/hint", "/jieju 题数=3 常见"):
        await j.say("u1", text)
    game = j.game()
    await j.say("u2", "/a " + game.answer[:-1] + ("月" if game.answer[-1] != "月" else "日"))
    await j.say("u2", "/a 天地玄黄宇宙")
    await j.say("u2", "今天天气真好")
    await j.say("u2", "天地玄黄宇宙洪荒")
    for _ in range(4):
        await j.say("u3", "/hint")
    await j.say("u2", j.game().answer)
    await j.say("u1", "/fhl 月")
    await j.say("u1", "/cai")
    await j.tick(11)
    await j.tick(21)
    await j.tick(31)
    await j.tick(41)
    await j.say("u3", "/a " + j.game().answer, reply_to_bot=True)
    await j.tick(100)
    await j.say("u1", "/rank")
    j2 = Chat(jcore, "g7", locale="en")
    await j2.say("u1", "/jieju 上 全库 题数=2")
    await j2.say("u2", "/stop")
    await j2.say("u1", "/stop")
    await j2.say("u1", "/jieju 下 easy n=1")
    await j2.say("u2", j2.game().answer)
    j3 = Chat(jcore, "p3", group=False)
    await j3.say("u1", "/jieju 上 蒙学 题数=1")
    await j3.say("u1", "随便说点什么吧")
    await j3.tick(41)

    # ---- 猜诗句
    ccore = ChatCore(svc, settings(game_chat_limit=100))
    rng_of(ccore).seed(13)
    k = Chat(ccore, "g8")
    await k.say("u1", "/cai 9")
    await k.say("u1", "/cai 5")
    board_key = ccore.games.store.load("telegram", "g8").board  # type: ignore[union-attr]
    if hasattr(ccore, "remember_board"):
        await ccore.remember_board("telegram", board_key, "555")
    else:
        conn.set(bot_keys.placeholder("telegram", board_key), "555")
    answer = k.game().answer
    await k.say("u2", "/a 天地玄黄宇")
    await k.say("u2", "/a 月落乌啼霜满天")
    await k.say("u2", "月落乌啼霜满天")
    await k.say("u2", "天地玄黄宇")
    wrong = [r.text for r in ccore.games.index.with_char("月", lengths=(5,), limit=20) if r.text != answer]
    await k.say("u2", f"/a {wrong[0]}")
    await k.say("u3", f"/a {wrong[0]}")
    await k.say("u3", "/hint")
    await k.say("u3", "/fhl 月")
    await k.say("u3", "/jieju")
    await k.say("u3", wrong[1])
    await k.tick(10)
    await k.say("u3", answer)
    await k.say("u1", "/rank")
    k2 = Chat(ccore, "g9", locale="en")
    await k2.say("u1", "/cai 七言")
    answer = k2.game().answer
    wrong7 = [r.text for r in ccore.games.index.with_char("春", lengths=(7,), limit=40) if r.text != answer]
    for w in wrong7[:10]:
        await k2.say("u2", f"/a {w}")
    await k2.say("u1", "/cai")
    await k2.say("u1", "/stop")
    await k2.say("u1", "/cai 五言")
    await k2.say("u1", "/stop")
    await k2.say("u1", "/cai")
    await k2.tick(10)
    await k2.tick(181)
    await k2.tick(400)
    # a timer whose game expired
    k3 = Chat(ccore, "g10")
    await k3.say("u1", "/cai")
    conn.delete(bot_keys.game("telegram", "g10"))
    await k3.tick(1)
    await k3.say("u1", "/a 床前明月光")
    await k3.say("u1", "/hint")
    await k3.say("u1", "/stop")
    await k3.say("u1", "床前明月光")
    json.dump(LOG, sys.stdout, ensure_ascii=False, indent=0)


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        server = RedisServer(Path(tmp) / "redis", appendonly=False).start()
        try:
            redis.Redis.from_url(server.url).flushall()
            asyncio.run(main(server.url))
        finally:
            server.kill()
