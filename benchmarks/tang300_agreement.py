"""How `poetcore check` judges the regulated poems of 唐诗三百首 (the anchors a teacher knows).

Usage::

    python benchmarks/tang300_agreement.py [--source ~/.cache/poetcore/chinese-poetry-2.0.1.tgz] [--list]

Reads ``mengxue/tangshisanbaishou.json`` of the pinned package (its 五言/七言 绝句 and 律诗
sections), checks each poem as the form of its section, and prints per section the share with no
犯律, the share with 拗 named, and (with ``--list``) every poem that fails, with its first faults.
Some of these poems are 古绝 or 拗体 on purpose (静夜思, 江雪): failing them is agreeing with the
rules, so read the list, not just the share.
"""

from __future__ import annotations

import argparse
import json
import tarfile
from collections import Counter
from pathlib import Path

from poetcore.errors import PoetcoreInputError
from poetcore.prosody.checker import check
from poetcore.text.chars import to_simplified

SECTIONS = {"五言絕句": "五绝", "七言絕句": "七绝", "五言律詩": "五律", "七言律詩": "七律"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=Path("~/.cache/poetcore/chinese-poetry-2.0.1.tgz").expanduser())
    parser.add_argument("--list", action="store_true", help="print every failing poem")
    args = parser.parse_args()
    with tarfile.open(args.source) as tf:
        member = tf.extractfile("package/dist/mengxue/tangshisanbaishou.json")
        assert member is not None
        data = json.load(member)
    failures = []
    print(f"{'section':<6} {'poems':>5} {'ok':>5} {'share':>7} {'with 拗':>8} {'with 拗救':>9} {'not this shape':>15}")
    for section in data["content"]:
        form = SECTIONS.get(section["type"])
        if form is None:
            continue
        counts: Counter[str] = Counter()
        for poem in section["content"]:
            text = to_simplified("".join(poem["paragraphs"]))
            try:
                report = check(text, form=form)
            except PoetcoreInputError:
                counts["shape"] += 1
                failures.append((form, poem, ["not a regular shape (e.g. a 古绝 of another length)"]))
                continue
            counts["all"] += 1
            counts["ok"] += report.ok
            counts["ao"] += report.ok and bool(report.tolerated)
            counts["jiu"] += report.ok and bool(report.notes)
            if not report.ok:
                failures.append((form, poem, [v.message for v in report.violations][:3]))
        n = counts["all"] + counts["shape"]
        print(f"{form:<6} {n:>5} {counts['ok']:>5} {counts['ok'] / n:>7.1%} {counts['ao']:>8} {counts['jiu']:>9} "
              f"{counts['shape']:>15}")
    if args.list:
        for form, poem, why in failures:
            print(f"- {form} {to_simplified(poem['author'])}《{to_simplified(poem['chapter'])}》: {'；'.join(why)}")


if __name__ == "__main__":
    main()
