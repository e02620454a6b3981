"""Fit the poem-fame model of `poetcore.data.line_fame` on the package and print ``POEM_WEIGHTS``.

Usage::

    python scripts/fit_line_fame.py [--source ~/.cache/poetcore/chinese-poetry-2.0.1.tgz]

Prints the weights (paste them into ``POEM_WEIGHTS``), the model's fit (the share of the short
collections' poems among the top-k poems it ranks), and the top of its ranking.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from poetcore.data.line_fame import (
    POEM_FEATURES,
    fit_poem_weights,
    line_authors,
    memberships,
    poem_features,
    training_set,
)
from poetcore.data.line_sources import iter_source_poems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--source", type=Path, default=Path("~/.cache/poetcore/chinese-poetry-2.0.1.tgz").expanduser())
    args = parser.parse_args()
    t0 = time.perf_counter()
    poems = list(iter_source_poems(args.source))
    members = memberships(poems)
    x = poem_features(poems, members, line_authors(poems))
    xt, y = training_set(poems, x, members)
    w = fit_poem_weights(xt, y)
    print(f"{len(poems):,} poems, {len(y):,} in the big collections, {int(y.sum()):,} of them in the short ones "
          f"({time.perf_counter() - t0:.0f} s)")
    print("POEM_WEIGHTS = (")
    for name, value in zip(POEM_FEATURES, w, strict=True):
        print(f"    {value:+.4f},  # {name}")
    print(")")
    score = xt @ w
    order = np.argsort(-score)
    for k in (500, 1000, 5000, 10000, 20000):
        print(f"top {k:>6,}: {int(y[order[:k]].sum()):>5,} of {int(y.sum()):,} collection poems")


if __name__ == "__main__":
    main()
