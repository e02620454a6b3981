"""The 猜诗句 referee: a famous line to guess, each guess checked against the index, one board.

The rules are `bots.core.games.caishi` (pure); this module picks the answer, stores the game and
keeps the board: one message the front-end edits as guesses come in (``board_key``).
"""

from __future__ import annotations

from bots.core.games import caishi
from bots.core.games.caishi import CaishiGame
from bots.core.games.referee import Referee, index_note, player_name
from bots.core.messages import t
from bots.core.models import IncomingMessage, OutgoingMessage

__all__ = ["CaishiReferee"]


class CaishiReferee(Referee[CaishiGame, tuple[int, ...]]):
    kind = "cai"
    name_key = "game_name_cai"

    def parse(self, body: str) -> tuple[int, ...]:
        return caishi.parse_cai(body)

    def start(self, msg: IncomingMessage, options: tuple[int, ...], now: float) -> list[OutgoingMessage]:
        loc = msg.locale
        record = self.index.random_line(self.rng, max_rank=caishi.MAX_RANK, collections=caishi.COLLECTIONS,
                                        lengths=(self.rng.choice(options),))
        if record is None:
            return self.outbox.reply(msg, t("fhl_hint_nothing", loc), direct=True)
        game = CaishiGame(starter=msg.user_id, starter_name=player_name(msg), answer=record.text,
                          source=record.source, line_id=record.id, deadline=now + self.settings.cai_timeout_s,
                          locale=loc, board=f"board_{msg.chat_id}_{int(now * 1000)}"[:64])
        self.store.save(msg.platform, msg.chat_id, game, game.deadline)
        intro = t("cai_started", loc, length=len(game.answer), max=caishi.MAX_GUESSES)
        intro += index_note(self.index, loc, start=True)
        board = OutgoingMessage(msg.chat_id, self._board_text(game, loc), board_key=game.board)
        return [OutgoingMessage(msg.chat_id, intro, reply_to_message_id=msg.message_id), board]

    def answer(self, msg: IncomingMessage, game: CaishiGame, line: str, explicit: bool,
               now: float) -> list[OutgoingMessage]:
        """A guess: refused without costing a guess (wrong length, no real line, guessed before), else
        on the board; the right line wins, the last wrong one loses."""
        loc, name = msg.locale, player_name(msg)
        if len(line) != len(game.answer):
            return self.outbox.reply(msg, t("cai_wrong_length", loc, length=len(game.answer)),
                                     name=name, mark="wrong") if explicit else []
        if any(g["line"] == line for g in game.guesses):
            return self.outbox.reply(msg, t("cai_repeat", loc, line=line), name=name, mark="repeat")
        if line != game.answer and self.index.lookup(line) is None:
            return self.outbox.reply(msg, t("cai_not_a_line", loc, line=line), name=name,
                                     mark="wrong") if explicit else []
        caishi.guess(game, line, name)
        game.deadline = now + self.settings.cai_timeout_s
        board = self._board_message(msg.platform, msg.chat_id, game, loc)
        if line == game.answer:
            points = caishi.win(game, msg.user_id, name)
            self.end(msg.platform, msg.chat_id, game, now)
            won = t("cai_won", loc, name=name, answer=game.answer, source=game.source, points=points)
            return [board, OutgoingMessage(msg.chat_id, won, reply_to_message_id=msg.message_id)]
        if game.left <= 0:
            self.store.finish(msg.platform, msg.chat_id)
            return [board, OutgoingMessage(msg.chat_id, self._lost_text(game, loc))]
        self.store.save(msg.platform, msg.chat_id, game, game.deadline)
        if board.edit_message_id is None:
            return [board]  # a new board message: seen as it is
        # An edited board changes silently, up where it was first sent: a short line shows the guess landed.
        last = game.guesses[-1]
        ack = t("cai_guess", loc, n=len(game.guesses), line=line, chars=last["chars"], left=game.left)
        return [board, *self.outbox.reply(msg, ack, name=name, mark="wrong")]

    def hint(self, msg: IncomingMessage, game: CaishiGame) -> list[OutgoingMessage]:
        """The one hint: where the line comes from."""
        return self.outbox.reply(msg, t("cai_hint", msg.locale, source=game.source), direct=True)

    def tick(self, platform: str, chat_id: str, game: CaishiGame, now: float) -> list[OutgoingMessage]:
        """Nobody guessed for ``cai_timeout_s``: the answer."""
        if now >= game.deadline:
            self.store.finish(platform, chat_id)
            return [OutgoingMessage(chat_id, self._lost_text(game, game.locale))]
        self.store.save(platform, chat_id, game, game.deadline)
        return []

    def state_text(self, game: CaishiGame, locale: str | None, now: float) -> str:
        return self._board_text(game, locale)

    def over_text(self, game: CaishiGame, locale: str | None) -> str:
        return self._board_text(game, locale) + "\n" + self._lost_text(game, locale)

    @staticmethod
    def _lost_text(game: CaishiGame, loc: str | None) -> str:
        return t("cai_lost", loc, answer=game.answer, source=game.source)

    def _board_message(self, platform: str, chat_id: str, game: CaishiGame, loc: str | None) -> OutgoingMessage:
        """The board, as an edit of the message already in the chat when the front-end remembered it."""
        return OutgoingMessage(chat_id, self._board_text(game, loc), board_key=game.board,
                               edit_message_id=self.store.board_message(platform, game.board))

    @staticmethod
    def _board_text(game: CaishiGame, loc: str | None) -> str:
        rows = [t("cai_row", loc, line=g["line"], chars=g["chars"], tones=g["tones"], name=g["name"])
                for g in game.guesses] or [t("cai_no_rows", loc)]
        return t("cai_board", loc, length=len(game.answer), left=game.left, rows="\n".join(rows))
