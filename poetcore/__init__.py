"""Poetcore: classical Chinese regulated verse with guaranteed 格律.

Importing this package is cheap and torch-free: the prosody parts (forms, rhymes,
checker) are used by the bots, which must never pull in torch.
"""

__version__ = "0.1.0"

__all__ = [
    "__version__",
]
