"""The `poetcore` command line: typer apps (``main.app`` is the entry point; ``check`` and ``data`` are its parts)."""

__all__: list[str] = []
