"""Sample the puzzle lines the games would ask, for blind readers: do educated readers know them?

Usage::

    python scripts/line_fame_samples.py --mode 蒙学 -n 30 --seed 1 > sheet.txt
    python scripts/line_fame_samples.py --mode 常见 --index data/lines.sqlite --key key.json

Each item is a 接句 question as `JiejuReferee` asks it on the default install (the built-in index,
unless ``--index``): the line shown and the line wanted. /cai draws its answers from the 蒙学 pool
the same way. Works on any checkout of the project (run it with that checkout first on
``PYTHONPATH`` to sample an older picker), so the before and after sheets come from the real code.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

from bots.core.games.jieju import JiejuGame
from bots.core.games.jieju_referee import JiejuReferee
from poetcore.lines import open_line_index


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mode", default="蒙学", choices=("蒙学", "常见", "全库"))
    parser.add_argument("-n", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--index", type=Path, default=None)
    parser.add_argument("--key", type=Path, default=None, help="Write each item's source here (JSON).")
    args = parser.parse_args()
    index = open_line_index(args.index)
    referee = JiejuReferee(None, index, None, None, random.Random(args.seed), "bot")  # type: ignore[arg-type]
    items: list[dict[str, str]] = []
    seen: set[str] = set()
    game = JiejuGame(starter="reader", starter_name="reader", total=10**6, timeout_s=40, level=args.mode)
    while len(items) < args.n:
        if not referee._ask(game, 0.0):
            break
        if game.prompt in seen:
            continue
        seen.add(game.prompt)
        items.append({"prompt": game.prompt, "answer": game.answer, "source": game.source})
    for i, item in enumerate(items, start=1):
        print(f"{i:2d}. {item['prompt']} → {item['answer']}")
    if args.key:
        args.key.write_text(json.dumps({"mode": args.mode, "index": index.info.name, "lines": index.info.lines,
                                        "items": items}, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
