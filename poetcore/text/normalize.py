"""One normal form for a verse line, so a player's input and the corpus meet.

Punctuation, spaces and markup go; traditional characters and variant forms (爲/为, 羣/群, 隠/隐 …)
become the standard simplified character, the same conversion the corpus went through.
"""

from __future__ import annotations

from poetcore.text.chars import is_han, to_simplified
from poetcore.text.variants import normalize_variants

__all__ = ["han_only", "normalize_line"]


def han_only(text: str) -> str:
    """The Han characters of ``text``, in order (everything else dropped)."""
    return "".join(ch for ch in text if is_han(ch))


def normalize_line(text: str) -> str:
    """Han characters only, simplified, variants folded; length-preserving after the strip."""
    han = han_only(text)
    if not han:
        return ""
    simple = to_simplified(han)
    if len(simple) != len(han):  # a phrase rule changed the length: convert one character at a time
        simple = "".join(c if len(c := to_simplified(ch)) == 1 else ch for ch in han)
    return normalize_variants(simple)
