"""The 飞花令 referee: lines judged against the index, the bot's own lines in versus mode, the clock.

The rules are `bots.core.games.feihua` (pure); this module looks lines up, stores the game and
words each verdict.
"""

from __future__ import annotations

import logging

from bots.core.games.feihua import (
    GOOD_TOKENS,
    MAX_HINTS,
    FeihuaGame,
    StartOptions,
    Verdict,
    accept,
    judge,
    line_lengths,
    mask,
    parse_start,
    required_position,
)
from bots.core.games.outbox import Mark
from bots.core.games.referee import Referee, index_note, player_name, scoreboard
from bots.core.games.rules import BOT_PLAYER, MAX_ANSWER, MIN_ANSWER
from bots.core.messages import t
from bots.core.models import IncomingMessage, OutgoingMessage

__all__ = ["MIN_TOKEN_LINES", "FeihuaReferee"]

log = logging.getLogger(__name__)

MIN_TOKEN_LINES = 20
"""A 令字 needs at least this many lines in the index to make a game."""
_LEVEL_KEYS = {"easy": "fhl_level_easy", "hard": "fhl_level_hard"}
_SILENT = frozenset({"not_found", "no_token", "too_short", "too_long"})
"""Verdicts that plain chat during a game gets no reply for: it was most likely not an answer."""
_MARKS: dict[str, Mark] = {"repeat": "repeat", "near_miss": "near"}
"""The mark of a refused line (`outbox.MARKS`), when it is not plain "wrong"."""


class FeihuaReferee(Referee[FeihuaGame, StartOptions]):
    kind = "fhl"
    name_key = "game_name_fhl"

    def parse(self, body: str) -> StartOptions:
        return parse_start(body)

    def start(self, msg: IncomingMessage, options: StartOptions, now: float) -> list[OutgoingMessage]:
        loc = msg.locale
        token = options.token
        if token is None:
            token = self._pick_token()
        else:
            count = len(self.index.with_char(token, lengths=(), limit=MIN_TOKEN_LINES))
            if count < MIN_TOKEN_LINES:
                return self.outbox.reply(msg, t("fhl_token_rare", loc, token=token, count=count), direct=True)
        timeout = options.timeout_s or self.settings.game_timeout_s
        game = FeihuaGame(token=token, starter=msg.user_id, starter_name=player_name(msg), timeout_s=timeout,
                          deadline=now + timeout, classic=options.classic,
                          versus=options.versus or not msg.is_group, level=options.level, locale=loc)
        self.store.save(msg.platform, msg.chat_id, game, self._next_tick(game))
        log.info("games: 飞花令 started in %s:%s (令字 %s, classic=%s, versus=%s)", msg.platform, msg.chat_id,
                 token, game.classic, game.versus)
        plain = t("fhl_plain_hint", loc) if msg.is_group else ""
        rule = t("fhl_position_rule", loc) if game.classic else ""
        text = t("fhl_started", loc, token=token, mode=self._mode(game, loc), position=rule, timeout=timeout,
                 plain=plain) + index_note(self.index, loc, start=True)
        return self.outbox.reply(msg, text, direct=True)

    def _pick_token(self) -> str:
        choices = list(GOOD_TOKENS)
        self.rng.shuffle(choices)
        for token in choices:
            if len(self.index.with_char(token, lengths=(5, 7), limit=MIN_TOKEN_LINES * 5)) >= MIN_TOKEN_LINES * 5:
                return token
        return choices[0]

    # ----------------------------------------------------------------- answers
    def answer(self, msg: IncomingMessage, game: FeihuaGame, line: str, explicit: bool,
               now: float) -> list[OutgoingMessage]:
        loc = msg.locale
        verdict = self._judge(game, line)
        if not explicit and verdict.kind in _SILENT:
            return []  # ordinary chat during a game: say nothing
        name = player_name(msg)
        if not verdict.accepted:
            return self.outbox.reply(msg, self._rejection(verdict, game, loc), name=name, mark=_MARKS.get(verdict.kind, "wrong"))
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
            self.end(msg.platform, msg.chat_id, game, now)
            texts.append(self.over_text(game, loc))
        else:
            self.store.save(msg.platform, msg.chat_id, game, self._next_tick(game))
        # 对战: the bot's own line is the next turn, so it is shown at once, never on the verdict board.
        return self.outbox.reply(msg, "\n".join(texts), name=name, mark="right", direct=game.versus)

    def pick(self, game: FeihuaGame, lines: list[str]) -> str | None:
        """Of a couplet, the one line that holds the 令字 (both or neither: ask for one line)."""
        holding = [line for line in lines if game.token in line]
        return holding[0] if len(holding) == 1 else None

    def _judge(self, game: FeihuaGame, line: str) -> Verdict:
        found = near = None
        if MIN_ANSWER <= len(line) <= MAX_ANSWER and game.token in line:
            match = self.index.match(line, containing=game.token)  # exact, a variant spelling, or a slip
            if match is not None:
                record = match.record
                reads = t("line_corpus_reads", game.locale, text=record.text) if match.differs else ""
                found = (record.id, record.source + reads)
            else:
                misses = self.index.near_misses(line, containing=game.token, limit=1)
                if misses:
                    real, _d = misses[0]
                    near = (real.id, real.text, real.source)
        return judge(game, line, found, near)

    def _bot_turn(self, game: FeihuaGame, now: float) -> Verdict | None:
        """The bot's line in versus mode (the easy bot knows only the most famous lines); None: it gives up."""
        position = required_position(game)
        max_rank = self.settings.game_easy_rank if game.level == "easy" else None
        picks = self.index.with_char(game.token, position=position, lengths=line_lengths(game, position),
                                     exclude=set(game.used_ids), max_rank=max_rank, limit=1)
        if not picks:
            return None
        verdict = Verdict("accepted", picks[0].text, picks[0].id, picks[0].source)
        accept(game, verdict, BOT_PLAYER, self.bot_name, now)
        return verdict

    @staticmethod
    def _rejection(verdict: Verdict, game: FeihuaGame, loc: str | None) -> str:
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

    # ----------------------------------------------------------------- hint and clock
    def hint(self, msg: IncomingMessage, game: FeihuaGame) -> list[OutgoingMessage]:
        """A line that would do, masked but for the 令字 and its first character (``MAX_HINTS`` a game)."""
        loc = msg.locale
        if game.hints >= MAX_HINTS:
            return self.outbox.reply(msg, t("fhl_hint_none", loc, max=MAX_HINTS), direct=True)
        position = required_position(game)
        picks = self.index.with_char(game.token, position=position, lengths=line_lengths(game, position),
                                     exclude=set(game.used_ids) | set(game.hinted), limit=8)
        if not picks:
            return self.outbox.reply(msg, t("fhl_hint_nothing", loc), direct=True)
        pick = self.rng.choice(picks)
        game.hints += 1
        game.hinted.append(pick.id)
        self.store.save(msg.platform, msg.chat_id, game, self._next_tick(game))
        return self.outbox.reply(msg, t("fhl_hint", loc, used=game.hints, max=MAX_HINTS, source=pick.source,
                                        masked=mask(pick.text, game.token)))

    def tick(self, platform: str, chat_id: str, game: FeihuaGame, now: float) -> list[OutgoingMessage]:
        loc = game.locale
        if now >= game.deadline:
            self.end(platform, chat_id, game, now)
            log.info("games: 飞花令 in %s:%s timed out after %d lines", platform, chat_id, game.turn)
            return [OutgoingMessage(chat_id, t("fhl_over_timeout", loc) + self.over_text(game, loc))]
        if not game.warned and now >= game.deadline - self.settings.game_warning_s:
            game.warned = True
            self.store.save(platform, chat_id, game, game.deadline)
            return [OutgoingMessage(chat_id, t("fhl_warning", loc, left=max(1, round(game.deadline - now)),
                                               token=game.token, position=self._position(game, loc)))]
        self.store.save(platform, chat_id, game, self._next_tick(game))
        return []

    def _next_tick(self, game: FeihuaGame) -> float:
        """The warning, when the round is long enough to have one and it has not come yet; else the end."""
        warn_at = game.deadline - self.settings.game_warning_s
        return warn_at if not game.warned and game.timeout_s > self.settings.game_warning_s * 2 else game.deadline

    # ----------------------------------------------------------------- wording
    def state_text(self, game: FeihuaGame, locale: str | None, now: float) -> str:
        return t("fhl_running", locale, token=game.token, mode=self._mode(game, locale), turn=game.turn,
                 left=max(0, round(game.deadline - now)), position=self._position(game, locale),
                 scores=scoreboard(game, locale))

    def over_text(self, game: FeihuaGame, locale: str | None) -> str:
        return t("fhl_over", locale, token=game.token, turn=game.turn, scores=scoreboard(game, locale))

    @staticmethod
    def _mode(game: FeihuaGame, loc: str | None) -> str:
        parts = [t("fhl_mode_classic" if game.classic else "fhl_mode_free", loc)]
        if game.versus:
            parts.append(t("fhl_mode_versus", loc, level=t(_LEVEL_KEYS.get(game.level, "fhl_level_hard"), loc)))
        return " · ".join(parts)

    @staticmethod
    def _position(game: FeihuaGame, loc: str | None) -> str:
        position = required_position(game)
        return t("fhl_position", loc, position=position) if position else ""

    @staticmethod
    def _next_note(game: FeihuaGame, loc: str | None) -> str:
        position = required_position(game)
        return t("fhl_next_position", loc, token=game.token, position=position) if position else ""
