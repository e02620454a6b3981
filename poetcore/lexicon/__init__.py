"""Lexicon: what the corpus says about characters and lines, shipped as small tables.

Rhyme usage, season words, bigrams and 叠字, the copy guard, replacement suggestions and the rhyme
lookups of /rhyme and /yun. Torch-free; built by `poetcore data tables`, read by decoding and the bots.
"""

__all__: list[str] = []
