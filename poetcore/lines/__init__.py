"""The line index: every verse line of the corpus, with its source, for judging game answers.

Torch-free (the bots use it). Built into SQLite by ``poetcore data lines`` (and ``data prepare``);
a built-in index of the famous poems (``poetcore data lines --builtin``, 81,534 lines) ships in the
package, xz-compressed, so games know the lines people know before the full one exists.
"""

from poetcore.lines.index import IndexInfo, LineIndex, LineMatch, LineRecord, open_line_index

__all__ = ["IndexInfo", "LineIndex", "LineMatch", "LineRecord", "open_line_index"]
