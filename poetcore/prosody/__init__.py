"""Prosody: the 平水韵 and 词林正韵 tables, the forms and 词谱 as data, and the checkers of 诗 and 词.

Torch-free and corpus-free at run time (it reads only shipped tables); the bots import it.
"""

__all__: list[str] = []
