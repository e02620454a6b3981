"""Every Redis key Poetcore writes besides RQ's own ``rq:*`` keys, in one place.

Poetcore needs a single Redis primary (or a Redis-compatible server): scripts touch several of
these keys at once, which Redis Cluster would reject unless they shared a hash slot.
"""

from __future__ import annotations

KEY_PREFIX = "poetcore"


def reply_stream(platform: str) -> str:
    """Stream of replies for one chat platform (``XADD ... MAXLEN ~``)."""
    return f"{KEY_PREFIX}:replies:{platform}"


def published(request_id: str) -> str:
    """Set once when the first reply for a request is published; later ones are dropped."""
    return f"{KEY_PREFIX}:published:{request_id}"


def delivery(platform: str, request_id: str) -> str:
    """Bot-side delivery state of a request: ``sending:<consumer>:<entry>`` lease, then ``sent``."""
    return f"{KEY_PREFIX}:delivery:{platform}:{request_id}"


def delivery_attempts(platform: str, request_id: str) -> str:
    return f"{KEY_PREFIX}:delivery-attempts:{platform}:{request_id}"


def request(request_id: str) -> str:
    """Hash with the owner (user, chat, platform) and state of an admitted request."""
    return f"{KEY_PREFIX}:req:{request_id}"


def user_window(platform: str, user_id: str) -> str:
    """Sorted set of a user's recent request ids scored by admission time (ms)."""
    return f"{KEY_PREFIX}:rl:user:{platform}:{user_id}"


def chat_window(platform: str, chat_id: str) -> str:
    return f"{KEY_PREFIX}:rl:chat:{platform}:{chat_id}"


def workers(queue: str) -> str:
    """Set of Poetcore worker names serving ``queue`` (their liveness keys say who is alive)."""
    return f"{KEY_PREFIX}:workers:{queue}"


def worker_beats(queue: str) -> str:
    """Hash worker name -> unix time of its last heartbeat (to measure recovery delay)."""
    return f"{KEY_PREFIX}:workers:{queue}:beats"


def alive(worker_name: str) -> str:
    """Refreshed every heartbeat with a short TTL; its absence means the worker is dead."""
    return f"{KEY_PREFIX}:alive:{worker_name}"


def reaper_lock(queue: str) -> str:
    return f"{KEY_PREFIX}:reaper-lock:{queue}"


def stuck_seen(queue: str) -> str:
    """Hash job id -> first time (ms) the reaper saw it dequeued but not started."""
    return f"{KEY_PREFIX}:stuck-seen:{queue}"


def service_time(queue: str) -> str:
    """Moving average of job service time in ms (for 'try again in N s' estimates)."""
    return f"{KEY_PREFIX}:service-ms:{queue}"
