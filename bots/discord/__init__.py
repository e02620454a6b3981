"""Discord front-end (discord.py 2.x): slash and prefix commands on the shared chat core.

Set-up (application, token, intents, invite scopes) is described in docs/discord.md.
"""

from bots.discord.app import DiscordSetupError, build_client, configure_endpoints, run_discord
from bots.discord.client import PoetClient

__all__ = ["DiscordSetupError", "PoetClient", "build_client", "configure_endpoints", "run_discord"]
