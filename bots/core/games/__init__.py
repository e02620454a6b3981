"""Group poetry games: each game's rules (pure: ``feihua``, ``jieju``, ``caishi`` over ``rules``), its
referee (``*_referee`` over ``referee``: the rules against the index and the store), the Redis
store, flood control (``outbox``), the clock, and the service the chat core calls."""

__all__: list[str] = []
