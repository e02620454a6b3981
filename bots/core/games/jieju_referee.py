"""The 接句 referee: questions picked from the index, answers judged, hints on the clock or on /hint.

The rules are `bots.core.games.jieju` (pure); this module picks the questions, stores the round and
words each step.
"""

from __future__ import annotations

from bots.core.games import jieju
from bots.core.games.jieju import LEVEL_POOLS, JiejuGame, JiejuOptions, parse_jieju
from bots.core.games.referee import Referee, index_note, player_name, scoreboard
from bots.core.games.rules import MAX_ANSWER, MIN_ANSWER
from bots.core.messages import t
from bots.core.models import IncomingMessage, OutgoingMessage

__all__ = ["JiejuReferee"]


class JiejuReferee(Referee[JiejuGame, JiejuOptions]):
    kind = "jieju"
    name_key = "game_name_jieju"

    def parse(self, body: str) -> JiejuOptions:
        return parse_jieju(body)

    def start(self, msg: IncomingMessage, options: JiejuOptions, now: float) -> list[OutgoingMessage]:
        loc = msg.locale
        game = JiejuGame(starter=msg.user_id, starter_name=player_name(msg), total=options.questions,
                         timeout_s=self.settings.jieju_timeout_s, level=options.level,
                         previous=options.previous, locale=loc)
        if not self._ask(game, now):
            return self.outbox.reply(msg, t("fhl_hint_nothing", loc), direct=True)
        self.store.save(msg.platform, msg.chat_id, game, self._next_tick(game))
        intro = t("jj_started", loc, total=game.total, level=game.level, timeout=game.timeout_s,
                  direction=self._direction(game, loc)) + index_note(self.index, loc, start=True)
        return self.outbox.reply(msg, intro + "\n" + self._question_text(game, loc), direct=True)

    def _ask(self, game: JiejuGame, now: float) -> bool:
        """Put the next question (a famous line whose neighbour is a line too); False if none is left."""
        max_rank, collections = LEVEL_POOLS.get(game.level, (None, None))
        for _ in range(20):  # a famous line and its couplet's other line, famous too
            pair = self.index.puzzle_pair(self.rng, offset=-1 if game.previous else 1, max_rank=max_rank,
                                          collections=collections, exclude=set(game.poem_line_ids))
            if pair is None:
                return False
            record, wanted = pair
            if MIN_ANSWER <= len(wanted) <= MAX_ANSWER:
                game.ask(record.text, wanted, record.source, record.id, now)
                return True
            game.poem_line_ids.append(record.id)  # no usable neighbour: never pick it again
        return False

    def answer(self, msg: IncomingMessage, game: JiejuGame, line: str, explicit: bool,
               now: float) -> list[OutgoingMessage]:
        loc, name = msg.locale, player_name(msg)
        outcome = jieju.judge_answer(game, line)
        if outcome == "near":
            return self.outbox.reply(msg, t("jj_near", loc), name=name, mark="near")
        if outcome == "wrong":
            return self.outbox.reply(msg, t("jj_wrong", loc), name=name, mark="wrong") if explicit else []
        points = jieju.score(game, msg.user_id, name)
        texts = [t("jj_correct", loc, name=name, answer=game.answer, source=game.source, points=points,
                   score=game.players[msg.user_id]["score"])]
        texts += self._next_question(msg.platform, msg.chat_id, game, now, loc)
        return self.outbox.reply(msg, "\n".join(texts), name=name, mark="right", direct=True)  # the next question

    def pick(self, game: JiejuGame, lines: list[str]) -> str | None:
        """Of a couplet (often the question's line and the answer), the line the question asks for:
        the one that is right, else the one that is not the question's own line."""
        right = [line for line in lines if jieju.judge_answer(game, line) == "correct"]
        others = [line for line in lines if line != game.prompt]
        return right[0] if len(right) == 1 else others[0] if not right and len(others) == 1 else None

    def _next_question(self, platform: str, chat_id: str, game: JiejuGame, now: float,
                       loc: str | None) -> list[str]:
        """After a question is settled: ask the next one, or end the round (scoreboard, leaderboard)."""
        if game.asked < game.total and self._ask(game, now):
            self.store.save(platform, chat_id, game, self._next_tick(game))
            return [self._question_text(game, loc)]
        self.end(platform, chat_id, game, now)
        return [self.over_text(game, loc)]

    def hint(self, msg: IncomingMessage, game: JiejuGame) -> list[OutgoingMessage]:
        text = self._hint_text(game, msg.locale)
        self.store.save(msg.platform, msg.chat_id, game, self._next_tick(game))
        return self.outbox.reply(msg, text)

    @staticmethod
    def _hint_text(game: JiejuGame, loc: str | None) -> str:
        """The next hint (the source, then the first character, then the tones), or none left."""
        count = {"max": jieju.MAX_HINTS}
        if game.hints >= jieju.MAX_HINTS:
            return t("jj_hint_none", loc, **count)
        game.hints += 1
        count["used"] = game.hints
        if game.hints == 1:
            return t("jj_hint_source", loc, source=game.source, **count)
        if game.hints == 2:
            return t("jj_hint_first", loc, first=game.answer[0], length=len(game.answer), **count)
        return t("jj_hint_tones", loc, pattern=jieju.tone_pattern(game.answer), **count)

    def tick(self, platform: str, chat_id: str, game: JiejuGame, now: float) -> list[OutgoingMessage]:
        """Time is up (the answer, then the next question or the end), or the clock gives a hint."""
        loc = game.locale
        if now >= game.deadline:
            reveal = t("jj_timeout", loc, answer=game.answer, source=game.source)
            text = reveal + "\n" + "\n".join(self._next_question(platform, chat_id, game, now, loc))
            return [OutgoingMessage(chat_id, text)]
        if game.hints < jieju.MAX_HINTS and now >= game.hint_at:
            text = self._hint_text(game, loc)
            self.store.save(platform, chat_id, game, self._next_tick(game))
            return [OutgoingMessage(chat_id, text)]
        self.store.save(platform, chat_id, game, self._next_tick(game))
        return []

    @staticmethod
    def _next_tick(game: JiejuGame) -> float:
        return min(game.deadline, game.hint_at) if game.hints < jieju.MAX_HINTS else game.deadline

    def state_text(self, game: JiejuGame, locale: str | None, now: float) -> str:
        return self._question_text(game, locale) + "\n" + scoreboard(game, locale)

    def over_text(self, game: JiejuGame, locale: str | None) -> str:
        return t("jj_over", locale, total=game.asked, scores=scoreboard(game, locale))

    def stop_text(self, game: JiejuGame, locale: str | None) -> str:
        """Stopped mid-question: its answer and source first, then the scores."""
        reveal = t("jj_stopped", locale, answer=game.answer, source=game.source)
        return reveal + "\n" + self.over_text(game, locale)

    def _question_text(self, game: JiejuGame, loc: str | None) -> str:
        return t("jj_question", loc, n=game.asked, total=game.total, prompt=game.prompt,
                 direction=self._direction(game, loc), length=len(game.answer))

    @staticmethod
    def _direction(game: JiejuGame, loc: str | None) -> str:
        return t("jj_dir_prev" if game.previous else "jj_dir_next", loc)
