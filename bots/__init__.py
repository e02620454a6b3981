"""Chat front-ends (Telegram, Discord, console) on one platform-neutral core. Never imports torch."""

__all__: list[str] = []
