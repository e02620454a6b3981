"""Evaluation: metrics on the test split, blind-reading sheets, the rule baseline and the engine benchmarks."""

__all__: list[str] = []
