"""Real control poems for a blind-reading sheet: unknown poems from the corpus's held-out splits.

A coherence share means nothing on its own: readers grade against what else is on the sheet, and
the bar moved by several points between rounds with like poems. Real poems, shuffled in with ours
and judged by the same readers, are the yardstick that makes a round's numbers a level. They must
be poems a reader cannot recognise (a famous line gives the source away and its poem a free pass),
so any poem with a line in the built-in index of 唐诗三百首, 千家诗 and 宋词三百首 is left out.

A 诗 control is a poem of the same form from the test split. A 词 control is a 词 of the same 词牌
(the corpus names it by the package's 词牌, `FormTemplate.model_form` without ``词·``: 忆江南 is
望江南忆江南) whose segments and breaks are those of the 词牌's 正体 chart, the shape every machine 词
is written in: a 又一体 on the sheet would be a tell that only real poems have. The 词 test split is
small (291 词, one 卜算子), so a 词牌 it cannot fill is topped up from the 词 validation split, which is
never trained on either (training only logs its bpc); each 词 control records its split.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from poetcore.data.corpus import CI_SPLIT_PREFIX, iter_poems, split_path
from poetcore.errors import UnknownFormError
from poetcore.lines.index import LineIndex, open_line_index
from poetcore.prosody.forms import FormTemplate, get_form

CONTROL_SPLIT = "test"
"""Never trained on, so a real poem is not one the model has learnt by heart."""
CI_CONTROL_SPLITS: tuple[str, ...] = (CI_SPLIT_PREFIX + "test", CI_SPLIT_PREFIX + "valid")
"""Where 词 controls come from, in order: the test split first, the validation split (never trained
on; too few 词 of some 词牌 in the test split alone) only for what the test split lacks."""
CONTROL_FORMS: tuple[str, ...] = ("五绝", "七绝", "五律", "七律")
"""The forms the corpus labels its 诗 with; besides these a sheet can hold any charted 词牌."""
CONTROL_SOURCE = "real poems from the corpus test split, none with a line in 唐诗三百首, 千家诗 or 宋词三百首"
CI_CONTROL_SOURCE = ("real 词 of the same 词牌 and 正体 shape from the corpus 词 test split (topped up from the 词 "
                     "validation split), none with a line in 宋词三百首")


def control_form(name: str) -> FormTemplate:
    """The form of a sheet entry (a 诗 form or a charted 词牌, aliases allowed); ValueError for a form
    the corpus has no real poems of."""
    try:
        form = get_form(name)
    except UnknownFormError:
        form = None
    if form is None or not (form.is_ci or form.name in CONTROL_FORMS):
        raise ValueError(f"no real controls for {name}: sheets hold {', '.join(CONTROL_FORMS)} and charted 词牌 "
                         "(`poetcore cipai` lists them) only")
    return form


def cipai_of(form: FormTemplate) -> str:
    """The corpus's name of a 词牌's package (``词·望江南忆江南`` -> 望江南忆江南)."""
    return form.prompt_form.removeprefix("词·")


def corpus_missing(data_dir: Path, ci: bool = False) -> str | None:
    """Why ``data_dir`` cannot give controls (of 词 with ``ci``): a message that says what to run, or None."""
    split = CI_CONTROL_SPLITS[0] if ci else CONTROL_SPLIT
    if split_path(data_dir, split).is_file():
        return None
    return (f"no prepared corpus in {data_dir} ({split}.jsonl.gz missing): real control "
            f"{'词' if ci else 'poems'} come from it; run `poetcore data prepare` first, or pass --data")


def is_famous(lines: Sequence[str], index: LineIndex) -> bool:
    """Whether any line of the poem is in ``index`` (a reader may know the poem)."""
    return any(index.lookup(line) is not None for line in lines)


def _shape_fits(poem: dict[str, Any], form: FormTemplate) -> bool:
    """A 词 segmented and punctuated as the 词牌's 正体 chart (the shape the machine writes)."""
    lines = poem.get("lines") or ()
    return tuple(len(line) for line in lines) == form.line_lengths and poem.get("marks") == form.variants[0].punctuation


def control_pool(data_dir: Path, forms: Sequence[str], index: LineIndex | None = None) -> dict[str, list[dict[str, Any]]]:
    """Every unknown poem of ``forms`` in the held-out splits, per form (by its own name: 忆江南 for
    望江南), in file order (deterministic): the 诗 test split, and for a 词牌 its 正体-shaped 词 of the
    词 test then validation split, each with its ``split``."""
    templates = {t.name: t for t in map(control_form, forms)}
    shi = {name for name, t in templates.items() if not t.is_ci}
    ci = {cipai_of(t): t for t in templates.values() if t.is_ci}
    for missing in (corpus_missing(data_dir) if shi else None, corpus_missing(data_dir, ci=True) if ci else None):
        if missing:
            raise FileNotFoundError(missing)
    famous = index or open_line_index(None)  # None: the built-in index, the famous poems only
    pool: dict[str, list[dict[str, Any]]] = {name: [] for name in templates}
    seen: set[tuple[str, ...]] = set()

    def keep(poem: dict[str, Any]) -> bool:
        lines = tuple(poem.get("lines") or ())
        if not lines or lines in seen or is_famous(lines, famous):
            return False
        seen.add(lines)
        return True

    try:
        if shi:
            for poem in iter_poems(data_dir, CONTROL_SPLIT):
                if poem.get("form") in shi and keep(poem):
                    pool[poem["form"]].append(poem)
        for split in CI_CONTROL_SPLITS if ci else ():
            if not split_path(data_dir, split).is_file():
                continue
            for poem in iter_poems(data_dir, split):
                form = ci.get(poem.get("cipai", ""))
                if form is not None and _shape_fits(poem, form) and keep(poem):
                    pool[form.name].append({**poem, "split": split})
    finally:
        if index is None:
            famous.close()
    return pool


def _pick(poems: Sequence[dict[str, Any]], need: int, rng: random.Random) -> list[dict[str, Any]]:
    """``need`` poems at random, from the first split of the pool before any later one."""
    out: list[dict[str, Any]] = []
    for split in dict.fromkeys(p.get("split") for p in poems):
        mine = [p for p in poems if p.get("split") == split]
        out += rng.sample(mine, min(need - len(out), len(mine)))
    return out


def draw_controls(
    data_dir: Path, forms: Sequence[str], seed: int | str, index: LineIndex | None = None
) -> list[dict[str, Any]]:
    """One real poem per entry of ``forms`` (the form of each control, repeats allowed), drawn at
    random with ``seed`` without replacement; each is ``{id, dynasty, form, title, author, lines}``,
    a 词 with its ``marks`` and ``split`` too. ``form`` is the form's own name (忆江南 for 望江南).

    Raises ValueError for a form with no real poems, or when the splits hold too few unknown poems of a form."""
    templates = {name: control_form(name) for name in dict.fromkeys(forms)}
    forms = [templates[name].name for name in forms]
    pool = control_pool(data_dir, list(dict.fromkeys(forms)), index)
    need = Counter(forms)
    rng = random.Random(f"controls:{seed}")
    picked: dict[str, list[dict[str, Any]]] = {}
    for form in sorted(need):
        if len(pool[form]) < need[form]:
            where = f"{' and '.join(CI_CONTROL_SPLITS)} splits" if get_form(form).is_ci else f"{CONTROL_SPLIT} split"
            raise ValueError(f"{data_dir} has {len(pool[form])} unknown {form} in its {where}; "
                             f"the sheet needs {need[form]} real ones")
        picked[form] = _pick(pool[form], need[form], rng)
    out: list[dict[str, Any]] = []
    for form in forms:
        poem = picked[form].pop()
        control = {k: poem.get(k, "") for k in ("id", "dynasty", "title", "author")}
        control |= {"form": form, "lines": list(poem["lines"])}
        if "marks" in poem:
            control |= {"marks": poem["marks"], "split": poem["split"]}
        out.append(control)
    return out


__all__ = ["CI_CONTROL_SOURCE", "CI_CONTROL_SPLITS", "CONTROL_FORMS", "CONTROL_SOURCE", "CONTROL_SPLIT", "cipai_of",
           "control_form", "control_pool", "corpus_missing", "draw_controls", "is_famous"]
