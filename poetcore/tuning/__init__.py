"""Learning from our own poems: the critic trained against the generator's samples, and preference
training of the generator."""

__all__: list[str] = []
