"""Corpus pipeline: fetch the chinese-poetry package, clean, label keywords, split, read back.

`iter_poems(dir, split)` / `load_split(dir, split)` read what `poetcore data prepare` wrote.
"""

from poetcore.data.corpus import iter_poems, load_split, read_manifest

__all__ = ["iter_poems", "load_split", "read_manifest"]
