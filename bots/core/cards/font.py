"""The cards' typeface: where it is, which characters it has, and its faces at each size.

The default is Noto Serif SC (SIL Open Font License 1.1), the whole OpenType font as the PyPI package
``pylopdf-fonts-zh-cn`` ships it (``pip install 'poetcore[cards]'``; ``make setup`` installs it).
The package is located, never imported: only its font file is used. ``POETBOT_CARD_FONT`` names any
other CJK TrueType/OpenType font instead (Debian's ``fonts-arphic-ukai`` is a kai one).

A character the font lacks would be drawn as a box (tofu): `CardFont.missing` names them from the
font's own cmap, so a card is never drawn with one.
"""

from __future__ import annotations

import importlib.util
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from fontTools.ttLib import TTFont, TTLibError
from PIL import ImageFont

__all__ = ["DEFAULT_FONT_FILE", "DEFAULT_FONT_PACKAGE", "FACE_LOCK", "CardFont", "CardFontMissing", "find_font", "load_font"]

DEFAULT_FONT_PACKAGE = "pylopdf_fonts_zh_cn"
"""The PyPI package (``pylopdf-fonts-zh-cn``, pinned in the ``cards`` extra) that carries the font."""
DEFAULT_FONT_FILE = "NotoSerifSC-Regular.otf"
"""Noto Serif SC Regular, version 2.003, inside that package."""


class CardFontMissing(Exception):
    """No usable font: the message says what is missing and how to install it."""


@dataclass(frozen=True)
class CardFont:
    """A loaded font: its cmap (the characters it can draw) and its ideographic em box.

    ``ascent`` is the em box's top above the baseline, in ems (OS/2 sTypoAscender / unitsPerEm: 0.88
    for Noto CJK), so a glyph is placed in its square cell whatever the font's line metrics.
    """

    path: Path
    cmap: frozenset[int]
    ascent: float

    def missing(self, text: str) -> str:
        """The characters of ``text`` (spaces aside) this font has no glyph for, each once."""
        return "".join(dict.fromkeys(ch for ch in text if not ch.isspace() and ord(ch) not in self.cmap))

    def face(self, size: int) -> ImageFont.FreeTypeFont:
        """The font at ``size`` pixels per em (cached: opening the file costs milliseconds)."""
        return _face(self.path, size)


FACE_LOCK = threading.Lock()
"""Held while drawing with any face: FreeType faces (cached and shared) are not safe to use from two
threads at once, and cards are drawn in worker threads."""


@lru_cache(maxsize=32)
def _face(path: Path, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(path), size)


def _package_font() -> Path | None:
    """The default font's path, found without importing (running) its package."""
    try:
        spec = importlib.util.find_spec(DEFAULT_FONT_PACKAGE)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        candidate = Path(folder) / DEFAULT_FONT_FILE
        if candidate.is_file():
            return candidate
    return None


def find_font(configured: Path | None = None) -> Path:
    """The font file to draw with: ``configured`` (POETBOT_CARD_FONT) when set, else the default.

    Raises:
        CardFontMissing: the configured file does not exist, or no font is configured and the
            default's package is not installed.
    """
    if configured is not None:
        if not Path(configured).is_file():
            raise CardFontMissing(f"POETBOT_CARD_FONT={configured} is not a file; point it at a CJK TTF/OTF "
                                  f"font, or unset it to use Noto Serif SC (pip install 'poetcore[cards]')")
        return Path(configured)
    found = _package_font()
    if found is None:
        raise CardFontMissing(f"the card font ({DEFAULT_FONT_FILE}) is not installed: run `make setup` or "
                              f"pip install 'poetcore[cards]' (package pylopdf-fonts-zh-cn), or set "
                              f"POETBOT_CARD_FONT to a CJK TTF/OTF font")
    return found


@lru_cache(maxsize=4)
def load_font(path: Path) -> CardFont:
    """Read a font's cmap and em box once per process (about 80 ms for Noto Serif SC).

    Raises:
        CardFontMissing: the file is not a font Pillow and fontTools can read.
    """
    try:
        font = TTFont(str(path), lazy=True, fontNumber=0)
        cmap = frozenset(font.getBestCmap() or {})
        units = font["head"].unitsPerEm
        os2 = font.get("OS/2")
        ascent = (os2.sTypoAscender / units) if os2 is not None and os2.sTypoAscender > 0 else 0.88
        font.close()
        _face(path, 12)  # Pillow (FreeType) must read it too
    except (OSError, TTLibError, KeyError, AssertionError) as exc:
        raise CardFontMissing(f"{path} is not a font the cards can use ({type(exc).__name__}: {exc})") from exc
    if not cmap:
        raise CardFontMissing(f"{path} has no Unicode cmap")
    return CardFont(path=path, cmap=cmap, ascent=ascent)
