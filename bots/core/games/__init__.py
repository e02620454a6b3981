"""Group poetry games: rules (pure), their Redis store, and the service the chat core calls."""

__all__: list[str] = []
