"""The line index: every verse line of the corpus, with its source, for judging game answers.

Torch-free (the bots use it). Built into SQLite by ``poetcore data lines`` (and ``data prepare``);
a small built-in index of the famous anthologies ships in the package so games work before the
full one exists.
"""

from poetcore.lines.index import IndexInfo, LineIndex, LineRecord, open_line_index

__all__ = ["IndexInfo", "LineIndex", "LineRecord", "open_line_index"]
