"""Real control poems for a blind-reading sheet: unknown poems from the corpus's test split.

A coherence share means nothing on its own: readers grade against what else is on the sheet, and
the bar moved by several points between rounds with like poems. Real poems, shuffled in with ours
and judged by the same readers, are the yardstick that makes a round's numbers a level. They must
be poems a reader cannot recognise (a famous line gives the source away and its poem a free pass),
so any poem with a line in the built-in index of 唐诗三百首, 千家诗 and 宋词三百首 is left out.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from poetcore.data.corpus import iter_poems, split_path
from poetcore.lines.index import LineIndex, open_line_index

CONTROL_SPLIT = "test"
"""Never trained on, so a real poem is not one the model has learnt by heart."""
CONTROL_FORMS: tuple[str, ...] = ("五绝", "七绝", "五律", "七律")
"""The forms the corpus labels its 诗 with; a sheet can only hold forms it has real poems of."""
CONTROL_SOURCE = "real poems from the corpus test split, none with a line in 唐诗三百首, 千家诗 or 宋词三百首"


def corpus_missing(data_dir: Path) -> str | None:
    """Why ``data_dir`` cannot give controls (a message that says what to run), or None."""
    if split_path(data_dir, CONTROL_SPLIT).is_file():
        return None
    return (f"no prepared corpus in {data_dir} ({CONTROL_SPLIT}.jsonl.gz missing): real control poems come from it; "
            "run `poetcore data prepare` first, or pass --data")


def is_famous(lines: Sequence[str], index: LineIndex) -> bool:
    """Whether any line of the poem is in ``index`` (a reader may know the poem)."""
    return any(index.lookup(line) is not None for line in lines)


def control_pool(data_dir: Path, forms: Sequence[str], index: LineIndex | None = None) -> dict[str, list[dict[str, Any]]]:
    """Every unknown poem of ``forms`` in the test split, per form, in file order (deterministic)."""
    missing = corpus_missing(data_dir)
    if missing:
        raise FileNotFoundError(missing)
    wanted = set(forms)
    famous = index or open_line_index(None)  # None: the built-in index, the famous poems only
    pool: dict[str, list[dict[str, Any]]] = {form: [] for form in forms}
    seen: set[tuple[str, ...]] = set()
    try:
        for poem in iter_poems(data_dir, CONTROL_SPLIT):
            lines = tuple(poem.get("lines") or ())
            if poem.get("form") not in wanted or not lines or lines in seen or is_famous(lines, famous):
                continue
            seen.add(lines)
            pool[poem["form"]].append(poem)
    finally:
        if index is None:
            famous.close()
    return pool


def draw_controls(
    data_dir: Path, forms: Sequence[str], seed: int | str, index: LineIndex | None = None
) -> list[dict[str, Any]]:
    """One real poem per entry of ``forms`` (the form of each control, repeats allowed), drawn at
    random with ``seed`` without replacement; each is ``{id, dynasty, form, title, author, lines}``.

    Raises ValueError when the split holds too few unknown poems of a form."""
    unknown = [f for f in dict.fromkeys(forms) if f not in CONTROL_FORMS]
    if unknown:
        raise ValueError(f"no real controls for {', '.join(unknown)}: sheets hold {', '.join(CONTROL_FORMS)} only")
    pool = control_pool(data_dir, list(dict.fromkeys(forms)), index)
    need = Counter(forms)
    rng = random.Random(f"controls:{seed}")
    picked: dict[str, list[dict[str, Any]]] = {}
    for form in sorted(need):
        if len(pool[form]) < need[form]:
            raise ValueError(f"{data_dir} has {len(pool[form])} unknown {form} in its {CONTROL_SPLIT} split; "
                             f"the sheet needs {need[form]} real ones")
        picked[form] = rng.sample(pool[form], need[form])
    out: list[dict[str, Any]] = []
    for form in forms:
        poem = picked[form].pop()
        out.append({k: poem.get(k, "") for k in ("id", "dynasty", "form", "title", "author")} | {"lines": list(poem["lines"])})
    return out


__all__ = ["CONTROL_FORMS", "CONTROL_SOURCE", "CONTROL_SPLIT", "control_pool", "corpus_missing", "draw_controls",
           "is_famous"]
