"""The reply loop every front-end runs: read the platform's reply stream, send, then acknowledge.

The stream is read through a consumer group (``worker.contract.replies.ReplyConsumer``), so replies published
while the bot was down wait for it, a crashed replica's entries are claimed by another, and a reply
is acknowledged only after the chat platform accepted it. A request is sent at most once (the
consumer's lease), even when its job ran twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Awaitable, Callable

from bots.core.chat import ChatCore
from bots.core.metrics import DELIVERY_RETRIES
from bots.core.models import OutgoingMessage
from worker.contract.protocol import PoemReply
from worker.contract.replies import ReplyConsumer

__all__ = ["PermanentDeliveryError", "SendReply", "TransientDeliveryError", "run_delivery"]

log = logging.getLogger(__name__)

SendReply = Callable[[PoemReply, OutgoingMessage], Awaitable[None]]


class PermanentDeliveryError(Exception):
    """The platform refused for good (bot blocked, chat deleted): acknowledge and drop the reply."""


class TransientDeliveryError(Exception):
    """The platform cannot take the reply now (flood control longer than the bot waits, the platform
    away): leave it pending for a later retry. Expected and handled, so one WARNING line without a
    traceback, counted in ``poetcore_delivery_retries_total{reason}``; any other exception is a bug
    and keeps its ERROR with traceback."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


async def run_delivery(core: ChatCore, consumer: ReplyConsumer, send: SendReply) -> None:
    """Deliver replies until cancelled (or ``consumer.stop()``).

    ``send(reply, out)`` gets the rendered message; ``out.edit_message_id`` is the stored
    acknowledgement to edit into the poem, when there is one. A send that raises
    ``PermanentDeliveryError`` is acknowledged and dropped; ``TransientDeliveryError`` (or any other
    exception, logged as a bug) leaves the reply pending, and the consumer retries it later (up to
    its ``max_attempts``).
    """
    loop = asyncio.create_task(_deliver_all(core, consumer, send), name=f"delivery:{consumer.platform}")
    try:
        await asyncio.shield(loop)
    except asyncio.CancelledError:
        # redis-py's asyncio client (8.1 on Python 3.11) sometimes swallows a cancellation that lands
        # in a blocking XREADGROUP/XAUTOCLAIM, and the consumer would read on forever. Stopping the
        # consumer ends its loop within one block time whatever happened to the cancel.
        consumer.stop()
        loop.cancel()
        await asyncio.wait({loop}, timeout=consumer.block_ms / 1000 + 5)
        raise


async def _deliver_all(core: ChatCore, consumer: ReplyConsumer, send: SendReply) -> None:
    async for claimed in consumer.replies():
        reply = claimed.reply
        try:
            out = core.render_reply(reply)
            placeholder = await core.placeholder_id(reply.platform, reply.request_id, wait=True)
            if placeholder:
                out = dataclasses.replace(out, edit_message_id=placeholder)
            await send(reply, out)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                await consumer.release(claimed)
            raise
        except PermanentDeliveryError as exc:
            log.warning("delivery: dropping reply %s for %s:%s: %s", reply.request_id, reply.platform,
                        reply.chat_id, exc, extra={"request_id": reply.request_id})
        except TransientDeliveryError as exc:
            DELIVERY_RETRIES.labels(platform=reply.platform, reason=exc.reason).inc()
            log.warning("delivery: reply %s not sent now (%s, attempt %d); it stays pending for a retry",
                        reply.request_id, exc, claimed.attempt, extra={"request_id": reply.request_id})
            await consumer.release(claimed)
            continue
        except Exception:
            log.exception("delivery: sending reply %s failed (attempt %d); it stays pending for a retry",
                          reply.request_id, claimed.attempt, extra={"request_id": reply.request_id})
            await consumer.release(claimed)
            continue
        await consumer.ack(claimed)
        with contextlib.suppress(Exception):
            await core.forget_placeholder(reply.platform, reply.request_id)
