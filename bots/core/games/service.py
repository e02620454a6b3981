"""The games service (飞花令, 接句): what the chat core calls for game commands, answers and the clock.

A move (start, answer, hint, stop, a clock tick) runs as one function in a worker thread, under the
chat's Redis lock: load the game, look lines up in the index, apply the rules, save. The rules are
`bots.core.games.feihua`; the state is `bots.core.games.store`; the index is `poetcore.lines`.

Flood control: a group takes about 20 bot messages a minute, so past ``game_chat_limit`` game
messages in ``game_chat_window_s`` a chat's verdicts are held back and sent every
``game_flush_s`` as one combined message (``tick`` sends them).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time

import redis

from bots.core.commands import safe_echo
from bots.core.games import caishi, jieju
from bots.core.games.caishi import CaishiGame
from bots.core.games.feihua import (
    GOOD_TOKENS,
    MAX_ANSWER,
    MAX_HINTS,
    MIN_ANSWER,
    FeihuaGame,
    GameInputError,
    StartOptions,
    Verdict,
    accept,
    judge,
    looks_like_line,
    mask,
    parse_start,
    required_position,
    standings,
)
from bots.core.games.jieju import JiejuGame, JiejuOptions, parse_jieju
from bots.core.games.store import Game, GameStore, iso_week
from bots.core.messages import t
from bots.core.models import IncomingMessage, OutgoingMessage
from bots.core.settings import BotSettings
from poetcore.lines import LineIndex, normalize_line
from worker.contract.metrics import GAME_ANSWERS, GAME_COMMANDS

__all__ = ["BOT_PLAYER", "GameService"]

log = logging.getLogger(__name__)

BOT_PLAYER = "bot"
MIN_TOKEN_LINES = 20
_MEDALS = ("🥇", "🥈", "🥉")
_LEVEL_KEYS = {"easy": "fhl_level_easy", "hard": "fhl_level_hard"}
_JIEJU_LEVELS: dict[str, tuple[int | None, frozenset[str] | None]] = {  # level -> (max fame rank, collections)
    "蒙学": (None, frozenset({"唐诗三百首", "千家诗"})),
    "常见": (20000, None),
    "全库": (None, None),
}


COMBINED_CHARS = 3500
"""A combined message stays under Telegram's 4096 characters (Discord's sender splits at 2000)."""


def _line_lengths(game: FeihuaGame, position: int | None) -> tuple[int, ...]:
    """Line lengths that can hold the 令字 at ``position``: past a five-character line's reach, seven."""
    return (7,) if position and position > 5 - len(game.token) + 1 else (5, 7)


def _batches(items: list[str], limit: int) -> list[list[str]]:
    batches: list[list[str]] = [[]]
    size = 0
    for item in items:
        if batches[-1] and size + len(item) + 1 > limit:
            batches.append([])
            size = 0
        batches[-1].append(item)
        size += len(item) + 1
    return batches


class GameService:
    def __init__(self, connection: redis.Redis, index: LineIndex, settings: BotSettings,
                 bot_name: str = "诗机") -> None:
        self.store = GameStore(connection)
        self.index = index
        self.settings = settings
        self.bot_name = bot_name
        self._random = random.Random()

    # ----------------------------------------------------------------- entry points (async)
    async def command(self, name: str, body: str, msg: IncomingMessage) -> list[OutgoingMessage]:
        """/fhl, /a, /hint, /stop, /rank."""
        GAME_COMMANDS.labels(command=name).inc()
        return await asyncio.to_thread(self._command, name, body, msg)

    async def plain(self, msg: IncomingMessage, *, addressed: bool = False) -> list[OutgoingMessage] | None:
        """A plain message (or a reply to the bot) while a game runs: an answer, or silence.
        None when no game runs here (the core then treats the text as usual)."""
        if not addressed and not looks_like_line(msg.text):
            return None
        out = await asyncio.to_thread(self._plain, msg, addressed)
        GAME_ANSWERS.labels(outcome="ignored" if out is None else "answered").inc()
        return out

    async def tick(self, platform: str, now: float | None = None) -> list[OutgoingMessage]:
        """Warnings, ends of rounds and held-back messages that are due; call about once a second."""
        return await asyncio.to_thread(self._tick, platform, time.time() if now is None else now)

    def index_note(self, locale: str | None) -> str:
        key = "fhl_index_builtin" if self.index.info.name == "builtin" else "fhl_index_full"
        return t(key, locale, lines=f"{self.index.info.lines:,}")

    # ----------------------------------------------------------------- commands
    def _command(self, name: str, body: str, msg: IncomingMessage) -> list[OutgoingMessage]:
        loc = msg.locale
        if name == "fhl" and body.strip().lower() in ("help", "帮助", "?", "？"):
            return self._send(msg, t("fhl_help", loc, index=self.index_note(loc)), direct=True)
        if name in ("fhl", "jieju"):
            try:
                return (self._start(msg, parse_start(body)) if name == "fhl"
                        else self._start_jieju(msg, parse_jieju(body)))
            except GameInputError as exc:
                return self._send(msg, t(exc.key, loc, **exc.params), direct=True)
        if name == "cai":
            word = body.strip()
            lengths = {"": (5, 7), "5": (5,), "五": (5,), "五言": (5,), "7": (7,), "七": (7,), "七言": (7,)}
            if word not in lengths:
                return self._send(msg, t("cai_bad_option", loc), direct=True)
            return self._start_cai(msg, lengths[word])
        if name == "answer":
            if not body.strip():
                return self._send(msg, t("fhl_answer_missing", loc), direct=True)
            return self._answer(msg, body, explicit=True) or []
        if name == "hint":
            return self._hint(msg)
        if name == "stop":
            return self._stop(msg)
        return self._send(msg, self._rank_text(msg), direct=True)

    def _start(self, msg: IncomingMessage, options: StartOptions) -> list[OutgoingMessage]:
        loc, now = msg.locale, time.time()
        with self.store.locked(msg.platform, msg.chat_id):
            running = self.store.load(msg.platform, msg.chat_id)
            if running is not None:
                return self._send(msg, self._state_text(running, loc, now), direct=True)
            token = options.token
            if token is None:
                token = self._pick_token()
            else:
                count = len(self.index.with_char(token, lengths=(), limit=MIN_TOKEN_LINES))
                if count < MIN_TOKEN_LINES:
                    return self._send(msg, t("fhl_token_rare", loc, token=token, count=count), direct=True)
            timeout = options.timeout_s or self.settings.game_timeout_s
            game = FeihuaGame(token=token, starter=msg.user_id, starter_name=self._name(msg), timeout_s=timeout,
                              deadline=now + timeout, classic=options.classic,
                              versus=options.versus or not msg.is_group, level=options.level, locale=loc)
            self.store.save(msg.platform, msg.chat_id, game, self._next_tick(game))
        log.info("games: 飞花令 started in %s:%s (令字 %s, classic=%s, versus=%s)", msg.platform, msg.chat_id,
                 token, game.classic, game.versus)
        plain = t("fhl_plain_hint", loc) if msg.is_group else ""
        text = t("fhl_started", loc, token=token, mode=self._mode(game, loc), position=self._position(game, loc),
                 timeout=timeout, plain=plain)
        return self._send(msg, text, direct=True)

    def _pick_token(self) -> str:
        choices = list(GOOD_TOKENS)
        self._random.shuffle(choices)
        for token in choices:
            if len(self.index.with_char(token, lengths=(5, 7), limit=MIN_TOKEN_LINES * 5)) >= MIN_TOKEN_LINES * 5:
                return token
        return choices[0]

    # ----------------------------------------------------------------- answers
    def _plain(self, msg: IncomingMessage, addressed: bool) -> list[OutgoingMessage] | None:
        if not self.store.running(msg.platform, msg.chat_id):
            return None
        return self._answer(msg, msg.text, explicit=addressed)

    def _answer(self, msg: IncomingMessage, text: str, *, explicit: bool) -> list[OutgoingMessage] | None:
        loc, now = msg.locale, time.time()
        line = normalize_line(text)
        with self.store.locked(msg.platform, msg.chat_id):
            game = self.store.load(msg.platform, msg.chat_id)
            if game is None:
                return self._send(msg, t("fhl_none", loc), direct=True) if explicit else None
            if isinstance(game, JiejuGame):
                return self._answer_jieju(msg, game, line, explicit, now)
            if isinstance(game, CaishiGame):
                return self._answer_cai(msg, game, line, explicit, now)
            verdict = self._judge(game, line)
            if not explicit and verdict.kind in ("not_found", "no_token", "too_short", "too_long"):
                return []  # ordinary chat during a game: say nothing
            name = self._name(msg)
            if not verdict.accepted:
                return self._send(msg, self._rejection(verdict, game, loc), name=name)
            points = accept(game, verdict, msg.user_id, name, now)
            score = game.players[msg.user_id]["score"]
            texts = [t("fhl_accepted", loc, line=verdict.line, source=verdict.source, name=name, points=points,
                       score=score, next="" if game.versus else self._next_note(game, loc))]
            over = False
            if game.versus:
                mine = self._bot_turn(game, now)
                if mine is None:
                    texts.append(t("fhl_bot_gives_up", loc))
                    over = True
                else:
                    texts.append(t("fhl_bot_line", loc, line=mine.line, source=mine.source,
                                   next=self._next_note(game, loc)))
            if over:
                self.store.record(msg.platform, msg.chat_id, game, now)
                self.store.finish(msg.platform, msg.chat_id)
                texts.append(self._over_text(game, loc))
            else:
                self.store.save(msg.platform, msg.chat_id, game, self._next_tick(game))
        return self._send(msg, "\n".join(texts), name=name)

    def _judge(self, game: FeihuaGame, line: str) -> Verdict:
        found = near = None
        if MIN_ANSWER <= len(line) <= MAX_ANSWER and game.token in line:
            record = self.index.lookup(line)
            if record is not None:
                found = (record.id, record.source)
            else:
                misses = self.index.near_misses(line, containing=game.token, limit=1)
                if misses:
                    real, _d = misses[0]
                    near = (real.id, real.text, real.source)
        return judge(game, line, found, near)

    def _bot_turn(self, game: FeihuaGame, now: float) -> Verdict | None:
        position = required_position(game)
        lengths = _line_lengths(game, position)
        max_rank = self.settings.game_easy_rank if game.level == "easy" else None
        picks = self.index.with_char(game.token, position=position, lengths=lengths, exclude=set(game.used_ids),
                                     max_rank=max_rank, limit=1)
        if not picks:
            return None
        verdict = Verdict("accepted", picks[0].text, picks[0].id, picks[0].source)
        accept(game, verdict, BOT_PLAYER, self.bot_name, now)
        return verdict

    def _rejection(self, verdict: Verdict, game: FeihuaGame, loc: str | None) -> str:
        k = verdict.kind
        if k == "too_short":
            return t("fhl_too_short", loc, min=MIN_ANSWER)
        if k == "too_long":
            return t("fhl_too_long", loc, max=MAX_ANSWER)
        if k == "no_token":
            return t("fhl_no_token", loc, line=verdict.line, token=game.token)
        if k == "near_miss":
            return t("fhl_near_miss", loc, real=verdict.real, source=verdict.source)
        if k == "repeat":
            return t("fhl_repeat", loc, line=verdict.line, name=verdict.by)
        if k == "wrong_position":
            return t("fhl_wrong_position", loc, token=game.token, position=verdict.position)
        return t("fhl_not_found", loc, line=verdict.line)

    # ----------------------------------------------------------------- 接句
    def _start_jieju(self, msg: IncomingMessage, options: JiejuOptions) -> list[OutgoingMessage]:
        loc, now = msg.locale, time.time()
        with self.store.locked(msg.platform, msg.chat_id):
            running = self.store.load(msg.platform, msg.chat_id)
            if running is not None:
                return self._send(msg, self._state_text(running, loc, now), direct=True)
            game = JiejuGame(starter=msg.user_id, starter_name=self._name(msg), total=options.questions,
                             timeout_s=self.settings.jieju_timeout_s, level=options.level,
                             previous=options.previous, locale=loc)
            if not self._ask(game, now):
                return self._send(msg, t("fhl_hint_nothing", loc), direct=True)
            self.store.save(msg.platform, msg.chat_id, game, self._next_tick(game))
        intro = t("jj_started", loc, total=game.total, level=game.level, timeout=game.timeout_s,
                  direction=self._direction(game, loc))
        return self._send(msg, intro + "\n" + self._question_text(game, loc), direct=True)

    def _ask(self, game: JiejuGame, now: float) -> bool:
        """Put the next question (a famous line whose neighbour is a line too); False if none is left."""
        max_rank, collections = _JIEJU_LEVELS.get(game.level, (None, None))
        for _ in range(20):
            record = self.index.random_line(self._random, max_rank=max_rank, collections=collections,
                                            exclude=set(game.poem_line_ids))
            if record is None:
                return False
            wanted = self.index.neighbour(record, -1 if game.previous else 1)
            if wanted and MIN_ANSWER <= len(wanted) <= MAX_ANSWER and wanted != record.text:
                game.ask(record.text, wanted, record.source, record.id, now)
                return True
            game.poem_line_ids.append(record.id)  # no usable neighbour: never pick it again
        return False

    def _answer_jieju(self, msg: IncomingMessage, game: JiejuGame, line: str, explicit: bool,
                      now: float) -> list[OutgoingMessage]:
        loc, name = msg.locale, self._name(msg)
        outcome = jieju.judge_answer(game, line)
        if outcome == "near":
            return self._send(msg, t("jj_near", loc), name=name)
        if outcome == "wrong":
            return self._send(msg, t("jj_wrong", loc), name=name) if explicit else []
        points = jieju.score(game, msg.user_id, name)
        texts = [t("jj_correct", loc, name=name, answer=game.answer, source=game.source, points=points,
                   score=game.players[msg.user_id]["score"])]
        texts += self._next_question(msg.platform, msg.chat_id, game, now, loc)
        return self._send(msg, "\n".join(texts), name=name)

    def _next_question(self, platform: str, chat_id: str, game: JiejuGame, now: float,
                       loc: str | None) -> list[str]:
        """After a question is settled: ask the next one, or end the round (scoreboard, leaderboard)."""
        if game.asked < game.total and self._ask(game, now):
            self.store.save(platform, chat_id, game, self._next_tick(game))
            return [self._question_text(game, loc)]
        self.store.record(platform, chat_id, game, now)
        self.store.finish(platform, chat_id)
        return [self._over_text(game, loc)]

    def _jieju_hint(self, game: JiejuGame, loc: str | None) -> str:
        if game.hints >= jieju.MAX_HINTS:
            return t("jj_hint_none", loc)
        game.hints += 1
        if game.hints == 1:
            return t("jj_hint_source", loc, source=game.source)
        if game.hints == 2:
            return t("jj_hint_first", loc, first=game.answer[0], length=len(game.answer))
        return t("jj_hint_tones", loc, pattern=jieju.tone_pattern(game.answer))

    def _tick_jieju(self, platform: str, chat_id: str, game: JiejuGame, now: float) -> list[str]:
        loc = game.locale
        if now >= game.deadline:
            reveal = t("jj_timeout", loc, answer=game.answer, source=game.source)
            return [reveal + "\n" + "\n".join(self._next_question(platform, chat_id, game, now, loc))]
        if game.hints < jieju.MAX_HINTS and now >= game.hint_at:
            text = self._jieju_hint(game, loc)
            self.store.save(platform, chat_id, game, self._next_tick(game))
            return [text]
        self.store.save(platform, chat_id, game, self._next_tick(game))
        return []

    def _question_text(self, game: JiejuGame, loc: str | None) -> str:
        return t("jj_question", loc, n=game.asked, total=game.total, prompt=game.prompt,
                 direction=self._direction(game, loc), length=len(game.answer))

    @staticmethod
    def _direction(game: JiejuGame, loc: str | None) -> str:
        return t("jj_dir_prev" if game.previous else "jj_dir_next", loc)

    # ----------------------------------------------------------------- 猜诗句
    def _start_cai(self, msg: IncomingMessage, lengths: tuple[int, ...]) -> list[OutgoingMessage]:
        loc, now = msg.locale, time.time()
        with self.store.locked(msg.platform, msg.chat_id):
            running = self.store.load(msg.platform, msg.chat_id)
            if running is not None:
                return self._send(msg, self._state_text(running, loc, now), direct=True)
            record = self.index.random_line(self._random, collections=frozenset({"唐诗三百首", "千家诗"}),
                                            lengths=(self._random.choice(lengths),))
            if record is None:
                return self._send(msg, t("fhl_hint_nothing", loc), direct=True)
            game = CaishiGame(starter=msg.user_id, starter_name=self._name(msg), answer=record.text,
                              source=record.source, line_id=record.id, deadline=now + self.settings.cai_timeout_s,
                              locale=loc, board=f"board_{msg.chat_id}_{int(now * 1000)}"[:64])
            self.store.save(msg.platform, msg.chat_id, game, game.deadline)
        intro = t("cai_started", loc, length=len(game.answer), max=caishi.MAX_GUESSES)
        board = OutgoingMessage(msg.chat_id, self._board_text(game, loc), board_key=game.board)
        return [OutgoingMessage(msg.chat_id, intro, reply_to_message_id=msg.message_id), board]

    def _answer_cai(self, msg: IncomingMessage, game: CaishiGame, line: str, explicit: bool,
                    now: float) -> list[OutgoingMessage]:
        loc, name = msg.locale, self._name(msg)
        if len(line) != len(game.answer):
            return self._send(msg, t("cai_wrong_length", loc, length=len(game.answer)), name=name) if explicit else []
        if any(g["line"] == line for g in game.guesses):
            return self._send(msg, t("cai_repeat", loc, line=line), name=name)
        if line != game.answer and self.index.lookup(line) is None:
            return self._send(msg, t("cai_not_a_line", loc, line=line), name=name) if explicit else []
        game.guesses.append({"line": line, "chars": caishi.char_marks(line, game.answer),
                             "tones": caishi.tone_marks(line, game.answer), "name": name})
        game.deadline = now + self.settings.cai_timeout_s
        board = self._board_message(msg.platform, msg.chat_id, game, loc)
        if line == game.answer:
            points = 1 + game.left
            entry = game.players.setdefault(msg.user_id, {"name": name, "score": 0, "lines": 0})
            entry["score"] += points
            entry["lines"] += 1
            self.store.record(msg.platform, msg.chat_id, game, now)
            self.store.finish(msg.platform, msg.chat_id)
            won = t("cai_won", loc, name=name, answer=game.answer, source=game.source, points=points)
            return [board, OutgoingMessage(msg.chat_id, won, reply_to_message_id=msg.message_id)]
        if game.left <= 0:
            self.store.finish(msg.platform, msg.chat_id)
            return [board, OutgoingMessage(msg.chat_id, t("cai_lost", loc, answer=game.answer, source=game.source))]
        self.store.save(msg.platform, msg.chat_id, game, game.deadline)
        return [board]

    def _board_message(self, platform: str, chat_id: str, game: CaishiGame, loc: str | None) -> OutgoingMessage:
        """The board, as an edit of the message already in the chat when the front-end remembered it."""
        return OutgoingMessage(chat_id, self._board_text(game, loc), board_key=game.board,
                               edit_message_id=self.store.board_message(platform, game.board))

    def _board_text(self, game: CaishiGame, loc: str | None) -> str:
        rows = [t("cai_row", loc, line=g["line"], chars=g["chars"], tones=g["tones"], name=g["name"])
                for g in game.guesses] or [t("cai_no_rows", loc)]
        return t("cai_board", loc, length=len(game.answer), left=game.left, rows="\n".join(rows))

    # ----------------------------------------------------------------- hint, stop, rank
    def _hint(self, msg: IncomingMessage) -> list[OutgoingMessage]:
        loc = msg.locale
        with self.store.locked(msg.platform, msg.chat_id):
            game = self.store.load(msg.platform, msg.chat_id)
            if game is None:
                return self._send(msg, t("fhl_none", loc), direct=True)
            if isinstance(game, JiejuGame):
                text = self._jieju_hint(game, loc)
                self.store.save(msg.platform, msg.chat_id, game, self._next_tick(game))
                return self._send(msg, text)
            if isinstance(game, CaishiGame):
                return self._send(msg, t("jj_hint_source", loc, source=game.source), direct=True)
            if game.hints >= MAX_HINTS:
                return self._send(msg, t("fhl_hint_none", loc, max=MAX_HINTS), direct=True)
            position = required_position(game)
            lengths = _line_lengths(game, position)
            picks = self.index.with_char(game.token, position=position, lengths=lengths,
                                         exclude=set(game.used_ids) | set(game.hinted), limit=8)
            if not picks:
                return self._send(msg, t("fhl_hint_nothing", loc), direct=True)
            pick = self._random.choice(picks)
            game.hints += 1
            game.hinted.append(pick.id)
            self.store.save(msg.platform, msg.chat_id, game, self._next_tick(game))
        return self._send(msg, t("fhl_hint", loc, used=game.hints, max=MAX_HINTS, source=pick.source,
                                 masked=mask(pick.text, game.token)))

    def _stop(self, msg: IncomingMessage) -> list[OutgoingMessage]:
        loc, now = msg.locale, time.time()
        with self.store.locked(msg.platform, msg.chat_id):
            game = self.store.load(msg.platform, msg.chat_id)
            if game is None:
                return self._send(msg, t("fhl_none", loc), direct=True)
            if msg.is_group and msg.user_id != game.starter:
                return self._send(msg, t("fhl_stop_not_yours", loc, name=game.starter_name), direct=True)
            self.store.record(msg.platform, msg.chat_id, game, now)
            self.store.finish(msg.platform, msg.chat_id)
        return self._send(msg, self._over_text(game, loc), direct=True)

    def _rank_text(self, msg: IncomingMessage) -> str:
        loc = msg.locale
        parts = [t("rank_header", loc)]
        for label, period in (("rank_all", "all"), ("rank_week", iso_week(time.time()))):
            parts.append(f"— {t(label, loc)} —")
            rows = self.store.board(msg.platform, msg.chat_id, period)
            parts += [t("rank_line", loc, place=i, name=n, score=s, lines=ln, best=b)
                      for i, (n, s, ln, b) in enumerate(rows, start=1)] or [t("rank_empty", loc)]
        return "\n".join(parts)

    # ----------------------------------------------------------------- the clock
    def _tick(self, platform: str, now: float) -> list[OutgoingMessage]:
        outs: list[OutgoingMessage] = []
        for chat_id in self.store.due(platform, now):
            with self.store.locked(platform, chat_id):
                game = self.store.load(platform, chat_id)
                if game is None:
                    self.store.finish(platform, chat_id)
                    continue
                loc = game.locale
                if isinstance(game, JiejuGame):
                    outs += [OutgoingMessage(chat_id, text) for text in self._tick_jieju(platform, chat_id, game, now)]
                    continue
                if isinstance(game, CaishiGame):
                    if now >= game.deadline:
                        self.store.finish(platform, chat_id)
                        outs.append(OutgoingMessage(chat_id, t("cai_lost", loc, answer=game.answer, source=game.source)))
                    else:
                        self.store.save(platform, chat_id, game, game.deadline)
                    continue
                if now >= game.deadline:
                    self.store.record(platform, chat_id, game, now)
                    self.store.finish(platform, chat_id)
                    log.info("games: 飞花令 in %s:%s timed out after %d lines", platform, chat_id, game.turn)
                    outs.append(OutgoingMessage(chat_id, t("fhl_over_timeout", loc) + self._over_text(game, loc)))
                elif not game.warned and now >= game.deadline - self.settings.game_warning_s:
                    game.warned = True
                    self.store.save(platform, chat_id, game, game.deadline)
                    outs.append(OutgoingMessage(chat_id, t("fhl_warning", loc, left=max(1, round(game.deadline - now)),
                                                           token=game.token, position=self._position(game, loc))))
                else:
                    self.store.save(platform, chat_id, game, self._next_tick(game))
        for chat_id, items in self.store.take_held(platform, now).items():
            for batch in _batches(items, COMBINED_CHARS):
                outs.append(OutgoingMessage(chat_id, t("fhl_combined", None, items="\n".join(batch))))
        return outs

    def _next_tick(self, game: Game) -> float:
        if isinstance(game, CaishiGame):
            return game.deadline
        if isinstance(game, JiejuGame):
            return min(game.deadline, game.hint_at) if game.hints < jieju.MAX_HINTS else game.deadline
        warn_at = game.deadline - self.settings.game_warning_s
        return warn_at if not game.warned and game.timeout_s > self.settings.game_warning_s * 2 else game.deadline

    # ----------------------------------------------------------------- wording and sending
    def _send(self, msg: IncomingMessage, text: str, *, direct: bool = False,
              name: str | None = None) -> list[OutgoingMessage]:
        """One reply, or none now when the group is busy (then it goes out combined, later)."""
        out = [OutgoingMessage(msg.chat_id, text, reply_to_message_id=msg.message_id)]
        if not msg.is_group:
            return out
        sent = self.store.count_sent(msg.platform, msg.chat_id, self.settings.game_chat_window_s)
        if direct or sent <= self.settings.game_chat_limit:
            return out
        held = f"{name}：{text}" if name else text
        self.store.hold(msg.platform, msg.chat_id, held, time.time() + self.settings.game_flush_s)
        return []

    def _state_text(self, game: Game, loc: str | None, now: float) -> str:
        if isinstance(game, CaishiGame):
            return self._board_text(game, loc)
        if isinstance(game, JiejuGame):
            return self._question_text(game, loc) + "\n" + self._scores(game, loc)
        return t("fhl_running", loc, token=game.token, mode=self._mode(game, loc), turn=game.turn,
                 left=max(0, round(game.deadline - now)), position=self._position(game, loc),
                 scores=self._scores(game, loc))

    def _over_text(self, game: Game, loc: str | None) -> str:
        if isinstance(game, CaishiGame):
            return self._board_text(game, loc) + "\n" + t("cai_lost", loc, answer=game.answer, source=game.source)
        if isinstance(game, JiejuGame):
            return t("jj_over", loc, total=game.asked, scores=self._scores(game, loc))
        return t("fhl_over", loc, token=game.token, turn=game.turn, scores=self._scores(game, loc))

    def _scores(self, game: Game, loc: str | None) -> str:
        rows = standings(game)
        if not rows:
            return t("fhl_no_scores", loc)
        return "\n".join(t("fhl_score_line", loc, medal=_MEDALS[i] if i < 3 else f"{i + 1}.", name=name,
                           score=score, lines=lines) for i, (_pid, name, score, lines) in enumerate(rows))

    def _mode(self, game: FeihuaGame, loc: str | None) -> str:
        parts = [t("fhl_mode_classic" if game.classic else "fhl_mode_free", loc)]
        if game.versus:
            parts.append(t("fhl_mode_versus", loc, level=t(_LEVEL_KEYS.get(game.level, "fhl_level_hard"), loc)))
        return " · ".join(parts)

    def _position(self, game: FeihuaGame, loc: str | None) -> str:
        position = required_position(game)
        return t("fhl_position", loc, position=position) if position else ""

    def _next_note(self, game: FeihuaGame, loc: str | None) -> str:
        position = required_position(game)
        return t("fhl_next_position", loc, token=game.token, position=position) if position else ""

    @staticmethod
    def _name(msg: IncomingMessage) -> str:
        return safe_echo(msg.user_name or "", 16) or f"#{msg.user_id[-4:]}"
