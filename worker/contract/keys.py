"""The Redis keys both sides of the queue read or write, and the RQ internals the reaper inspects.

The bots' own keys (placeholders, games, intake) are `bots.core.keys`, under ``KEY_PREFIX`` too.

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


def send_state(platform: str, request_id: str) -> str:
    """Bot-side send state of a reply: ``sending:<consumer>:<entry>`` lease, then ``sent`` or ``dropped``."""
    return f"{KEY_PREFIX}:delivery:{platform}:{request_id}"


def send_attempts(platform: str, request_id: str) -> str:
    """How often a bot tried to send a request's reply (dropped after ``reply_max_attempts``)."""
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


def admitting(queue: str) -> str:
    """Sorted set request id -> deadline (ms): admitted requests whose job is not pushed yet.

    Admission counts them with the waiting jobs, so the queue cap holds however many bots admit at
    once; each is removed right after its job is pushed (or could not be), or lapses at its deadline
    if its bot died in between.
    """
    return f"{KEY_PREFIX}:admitting:{queue}"


def service_time(queue: str) -> str:
    """Moving average of job service time in ms (for 'try again in N s' estimates)."""
    return f"{KEY_PREFIX}:service-ms:{queue}"


# --- RQ's own layout (rq 2.12), read only by worker.rq_private ---------------------------------
def rq_job(job_id: str) -> str:
    """RQ's job hash."""
    return f"rq:job:{job_id}"


def rq_execution(composite: str) -> str:
    """RQ's hash for one execution of a job (``<job id>:<execution id>``)."""
    return f"rq:execution:{composite}"

__all__ = [
    "KEY_PREFIX",
    "admitting",
    "alive",
    "chat_window",
    "published",
    "reaper_lock",
    "reply_stream",
    "request",
    "rq_execution",
    "rq_job",
    "send_attempts",
    "send_state",
    "service_time",
    "stuck_seen",
    "user_window",
    "worker_beats",
    "workers",
]
