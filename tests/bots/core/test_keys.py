"""The bots' own Redis keys and the queue's shared ones never overlap."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from types import ModuleType

from bots.core import keys as bot_keys
from worker.contract import keys as queue_keys


def _made(module: ModuleType) -> dict[str, str]:
    """Each key function of ``module`` called with placeholder arguments."""
    made: dict[str, str] = {}
    for name in module.__all__:
        value = getattr(module, name)
        if callable(value):
            fn: Callable[..., str] = value
            made[name] = fn(*[f"<{p}>" for p in inspect.signature(fn).parameters])
    return made


def test_every_bot_key_lives_under_the_bot_prefix_and_no_queue_key_does() -> None:
    bots, queue = _made(bot_keys), _made(queue_keys)
    assert bots and queue
    assert all(key.startswith(f"{bot_keys.BOT_PREFIX}:") for key in bots.values()), bots
    assert not any(key.startswith(f"{bot_keys.BOT_PREFIX}:") for key in queue.values()), queue
    assert len(set(bots.values())) == len(bots)  # no two bot keys share a layout

