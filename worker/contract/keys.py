"""Every Redis key Poetcore reads or writes, in one place: the queue's, the bots' and the RQ
internals the reaper inspects.

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


def service_time(queue: str) -> str:
    """Moving average of job service time in ms (for 'try again in N s' estimates)."""
    return f"{KEY_PREFIX}:service-ms:{queue}"


# --- the bots' own state -----------------------------------------------------------------------
BOT_PREFIX = f"{KEY_PREFIX}:bot"


def placeholder(platform: str, request_id: str) -> str:
    """Message id of the "正在作诗…" placeholder a bot sent for a request, to edit into the poem."""
    return f"{BOT_PREFIX}:ack:{platform}:{request_id}"


def group_acks(platform: str, chat_id: str) -> str:
    """Acknowledgements sent in a group chat in the current window (coalescing when a group is busy)."""
    return f"{BOT_PREFIX}:gack:{platform}:{chat_id}"


def game(platform: str, chat_id: str) -> str:
    """The running game of a chat (JSON), with a TTL past its deadline."""
    return f"{BOT_PREFIX}:game:{platform}:{chat_id}"


def game_lock(platform: str, chat_id: str) -> str:
    """Serialises moves on one chat's game across bot processes."""
    return f"{BOT_PREFIX}:game-lock:{platform}:{chat_id}"


def game_timers(platform: str) -> str:
    """Sorted set: chat id -> when its game next needs the clock (warning or deadline)."""
    return f"{BOT_PREFIX}:game-timers:{platform}"


def game_outbox(platform: str, chat_id: str) -> str:
    """Game messages held back while a chat is busy, sent later as one message."""
    return f"{BOT_PREFIX}:game-outbox:{platform}:{chat_id}"


def game_flush(platform: str) -> str:
    """Sorted set: chat id -> when its held-back game messages go out."""
    return f"{BOT_PREFIX}:game-flush:{platform}"


def game_sent(platform: str, chat_id: str) -> str:
    """Game messages sent to a chat in the current window (flood control)."""
    return f"{BOT_PREFIX}:game-sent:{platform}:{chat_id}"


def game_rank(platform: str, chat_id: str, period: str) -> str:
    """Sorted set: user id -> points, for ``period`` "all" or an ISO week like "2026-W49"."""
    return f"{BOT_PREFIX}:rank:{platform}:{chat_id}:{period}"


def game_stats(platform: str, chat_id: str) -> str:
    """Hash: "<user>:name", "<user>:lines", "<user>:best" for the leaderboard."""
    return f"{BOT_PREFIX}:rank-stats:{platform}:{chat_id}"


def interaction_token(interaction_id: str) -> str:
    """A Discord interaction's webhook token (a 15-minute credential), kept apart from the job payload
    so that it expires with the token instead of living as long as the job."""
    return f"{BOT_PREFIX}:itoken:discord:{interaction_id}"


def user_requests(platform: str, user_id: str) -> str:
    """A user's latest request ids, newest first (for /queue and /cancel)."""
    return f"{BOT_PREFIX}:user:{platform}:{user_id}"


def intake_stream(platform: str) -> str:
    """Updates a bot received, stored before the platform is told they arrived (durable intake)."""
    return f"{BOT_PREFIX}:intake:{platform}"


def intake_seen(platform: str, update_id: str) -> str:
    """Set once per platform update id: a re-fetched or re-posted update is stored only once."""
    return f"{BOT_PREFIX}:intake-seen:{platform}:{update_id}"


# --- RQ's own layout (rq 2.12), read only by worker.rq_private ---------------------------------
def rq_job(job_id: str) -> str:
    """RQ's job hash."""
    return f"rq:job:{job_id}"


def rq_execution(composite: str) -> str:
    """RQ's hash for one execution of a job (``<job id>:<execution id>``)."""
    return f"rq:execution:{composite}"

__all__ = [
    "BOT_PREFIX",
    "KEY_PREFIX",
    "alive",
    "chat_window",
    "game",
    "game_flush",
    "game_lock",
    "game_outbox",
    "game_rank",
    "game_sent",
    "game_stats",
    "game_timers",
    "group_acks",
    "intake_seen",
    "intake_stream",
    "interaction_token",
    "placeholder",
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
    "user_requests",
    "user_window",
    "worker_beats",
    "workers",
]
