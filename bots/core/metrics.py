"""Prometheus metrics only the bots export: how the games are played, and how the platforms behave.

An unreachable platform, a 429 or a reply left for a later retry are expected and handled: they log
one INFO/WARNING line without a traceback and count here, so an operator watches rates on /metrics
instead of reading tracebacks, and an ERROR line keeps meaning "someone must act".

They join the process's default registry, so the ``/metrics`` endpoint ``poetbot serve`` starts
(`worker.contract.metrics.start_metrics_server`) serves them beside the queue's.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge

__all__ = [
    "DELIVERY_RETRIES",
    "FLOOD_WAITS",
    "FLOOD_WAIT_SECONDS",
    "GAME_ANSWERS",
    "GAME_COMMANDS",
    "PLATFORM_OUTAGES",
    "PLATFORM_RETRIES",
    "PLATFORM_UP",
    "UPDATE_FAILURES",
]

GAME_COMMANDS = Counter("poetcore_game_commands_total", "Game commands handled by bots (fhl, jieju, cai, answer, ...).",
                        ["command"])
GAME_ANSWERS = Counter("poetcore_game_answers_total",
                       "Plain chat lines judged as game answers (answered) or left alone (ignored).", ["outcome"])

# --- the platforms (Telegram, Discord) ---------------------------------------------------------
PLATFORM_UP = Gauge(
    "poetcore_platform_up", "1 while the chat platform answers the bot, 0 while the bot waits for it.", ["platform"]
)
PLATFORM_OUTAGES = Counter(
    "poetcore_platform_outages_total",
    "Times the platform stopped answering (including unreachable at start); each logs one WARNING.",
    ["platform"],
)
PLATFORM_RETRIES = Counter(
    "poetcore_platform_retries_total",
    "Platform calls and reachability probes that failed on the network and are tried again.",
    ["platform"],
)
FLOOD_WAITS = Counter(
    "poetcore_flood_waits_total", "429 answers (flood control) waited out for their retry_after.", ["platform"]
)
FLOOD_WAIT_SECONDS = Counter(
    "poetcore_flood_wait_seconds_total", "Seconds spent waiting out 429 answers.", ["platform"]
)
DELIVERY_RETRIES = Counter(
    "poetcore_delivery_retries_total",
    "Replies the platform could not take now, left pending for a later retry (reason: flood, unavailable).",
    ["platform", "reason"],
)
UPDATE_FAILURES = Counter(
    "poetcore_update_failures_total",
    "Incoming messages whose answer failed: transient (the platform) or error (a bug: logged with a traceback).",
    ["platform", "kind"],
)
