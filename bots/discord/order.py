"""One channel's events one at a time, in the order they arrived; different channels side by side.

discord.py runs every gateway event in a task of its own, so two messages of one channel would be
handled at once: a player's answer could be judged after the next player's, a "/poem" could be
acknowledged after the "/cancel" typed behind it. Telegram keeps each chat in order
(``PerChatUpdateProcessor``); this does the same for Discord.

Why a turn is *reserved* first and *waited for* later: discord.py creates one task per event, in
gateway order, and asyncio starts tasks in the order they were created. A handler that reserves its
turn in its first step, before its first ``await``, therefore reserves in arrival order, whatever
happens later (a slash command defers first, because Discord allows it only 3 s).
"""

from __future__ import annotations

import asyncio
from types import TracebackType

__all__ = ["ChannelOrder", "Turn"]


class Turn:
    """One event's place in its channel's line: ``async with turn:`` waits for the events before it.

    ``release`` is idempotent and safe before the turn began: the line then moves on only once the
    events before this one have finished, so a handler that died early never lets two run at once.
    """

    def __init__(self, order: ChannelOrder, channel: str, previous: asyncio.Future[None] | None,
                 done: asyncio.Future[None]) -> None:
        self._order = order
        self._channel = channel
        self._previous = previous
        self._done = done

    async def __aenter__(self) -> Turn:
        if self._previous is not None and not self._previous.done():
            try:
                # asyncio.wait, not await: cancelling this waiter must not cancel the event before it.
                await asyncio.wait({self._previous})
            except BaseException:
                self.release()
                raise
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        self.release()

    def release(self) -> None:
        """Let the next event of the channel go, once every event before this one has finished."""
        if self._previous is None or self._previous.done():
            self._finish()
        else:
            self._previous.add_done_callback(lambda _: self._finish())

    def _finish(self) -> None:
        if not self._done.done():
            self._done.set_result(None)
        self._order._forget(self._channel, self._done)


class ChannelOrder:
    """The lines of events per channel; an idle channel costs nothing."""

    def __init__(self) -> None:
        self._tails: dict[str, asyncio.Future[None]] = {}

    def reserve(self, channel: str) -> Turn:
        """Take the next place in ``channel``'s line (synchronous: call it before the first await).

        The turn is also released when the current task ends, whatever ends it, so a handler that
        never reaches ``async with turn`` cannot hold up its channel.
        """
        loop = asyncio.get_running_loop()
        previous = self._tails.get(channel)
        done: asyncio.Future[None] = loop.create_future()
        self._tails[channel] = done
        turn = Turn(self, channel, previous, done)
        task = asyncio.current_task()
        if task is not None:
            task.add_done_callback(lambda _: turn.release())
        return turn

    def busy(self) -> int:
        """Channels with an event running or waiting (for tests and debugging)."""
        return len(self._tails)

    def _forget(self, channel: str, done: asyncio.Future[None]) -> None:
        if self._tails.get(channel) is done:
            del self._tails[channel]
