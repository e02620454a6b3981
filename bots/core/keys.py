"""Every Redis key only the bots read or write, in one place: placeholders, users' recent requests,
Discord interaction tokens, Telegram's durable intake, and the games.

No worker reads these, so they live with the bots; the keys both sides of the queue use are
`worker.contract.keys`, whose ``KEY_PREFIX`` these share.
"""

from __future__ import annotations

from worker.contract.keys import KEY_PREFIX

__all__ = [
    "BOT_PREFIX",
    "busy_notice_sent",
    "busy_notices_due",
    "game",
    "game_board",
    "game_flush",
    "game_lock",
    "game_rank",
    "game_sent",
    "game_sent_log",
    "game_stats",
    "game_timers",
    "game_verdicts",
    "group_placeholders",
    "intake_seen",
    "intake_stream",
    "interaction_token",
    "placeholder",
    "user_requests",
]

BOT_PREFIX = f"{KEY_PREFIX}:bot"


# --- poem requests -----------------------------------------------------------------------------
def placeholder(platform: str, request_id: str) -> str:
    """Message id of the "正在作诗…" placeholder a bot sent for a request, to edit into the poem."""
    return f"{BOT_PREFIX}:placeholder:{platform}:{request_id}"


def group_placeholders(platform: str, chat_id: str) -> str:
    """Placeholders sent in a group chat in the current window (a busy group gets fewer)."""
    return f"{BOT_PREFIX}:group-placeholders:{platform}:{chat_id}"


def busy_notices_due(platform: str) -> str:
    """Groups with a pending refusal notice, scored by when it is due; ``<this key>:<chat>`` holds the
    names it will carry (`bots.core.admission.BusyNotices`)."""
    return f"{BOT_PREFIX}:busy-notices:{platform}"


def busy_notice_sent(platform: str, chat_id: str) -> str:
    """When the group's last refusal notice went out: the next waits a notice window after it."""
    return f"{BOT_PREFIX}:busy-notice-sent:{platform}:{chat_id}"


def user_requests(platform: str, user_id: str) -> str:
    """A user's latest request ids, newest first (for /queue and /cancel)."""
    return f"{BOT_PREFIX}:user:{platform}:{user_id}"


def interaction_token(interaction_id: str) -> str:
    """A Discord interaction's webhook token (a 15-minute credential), kept apart from the job payload
    so that it expires with the token instead of living as long as the job."""
    return f"{BOT_PREFIX}:itoken:discord:{interaction_id}"


def intake_stream(platform: str) -> str:
    """Updates a bot received, stored before the platform is told they arrived (durable intake)."""
    return f"{BOT_PREFIX}:intake:{platform}"


def intake_seen(platform: str, update_id: str) -> str:
    """Set once per platform update id: a re-fetched or re-posted update is stored only once."""
    return f"{BOT_PREFIX}:intake-seen:{platform}:{update_id}"


# --- games -------------------------------------------------------------------------------------
def game(platform: str, chat_id: str) -> str:
    """The running game of a chat (JSON), with a TTL past its deadline."""
    return f"{BOT_PREFIX}:game:{platform}:{chat_id}"


def game_lock(platform: str, chat_id: str) -> str:
    """Serialises moves on one chat's game across bot processes."""
    return f"{BOT_PREFIX}:game-lock:{platform}:{chat_id}"


def game_timers(platform: str) -> str:
    """Sorted set: chat id -> when its game next needs the clock (warning or deadline)."""
    return f"{BOT_PREFIX}:game-timers:{platform}"


def game_board(platform: str, board_key: str) -> str:
    """Message id of a game board the front-end sent, so later moves edit it instead of posting anew."""
    return f"{BOT_PREFIX}:game-board:{platform}:{board_key}"


def game_verdicts(platform: str, chat_id: str) -> str:
    """A busy chat's verdict board (JSON): its message's key, its lines, how many are shown, when it
    was last edited (`bots.core.games.outbox`)."""
    return f"{BOT_PREFIX}:game-verdicts:{platform}:{chat_id}"


def game_flush(platform: str) -> str:
    """Sorted set: chat id -> when its verdict board shows the lines waiting for it."""
    return f"{BOT_PREFIX}:game-flush:{platform}"


def game_sent(platform: str, chat_id: str) -> str:
    """Game messages sent to a chat in the current window (flood control)."""
    return f"{BOT_PREFIX}:game-sent:{platform}:{chat_id}"


def game_sent_log(platform: str, chat_id: str) -> str:
    """Sorted set: when each recent game message (send or edit) went to a chat, for its pace."""
    return f"{BOT_PREFIX}:game-sent-log:{platform}:{chat_id}"


def game_rank(platform: str, chat_id: str, period: str) -> str:
    """Sorted set: user id -> points, for ``period`` "all" or an ISO week like "2026-W49"."""
    return f"{BOT_PREFIX}:rank:{platform}:{chat_id}:{period}"


def game_stats(platform: str, chat_id: str) -> str:
    """Hash: "<user>:name", "<user>:lines", "<user>:best", "<user>:points:<game kind>" for the leaderboard."""
    return f"{BOT_PREFIX}:rank-stats:{platform}:{chat_id}"
