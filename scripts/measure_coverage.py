"""Measure how many Tang+Song character tokens the rhyme table can give a tone, per provenance.

Streams the chinese-poetry tarball (no unpacking), reservoir-samples ``--sample`` poems from
``quantangshi/poet.{tang,song}.*.json`` and counts Han tokens covered by:

    raw        the 平水韵 table as shipped (traditional), character as written
    t2s        both sides converted with OpenCC t2s
    table      RhymeTable lookup (as written, then t2s; merged readings)
    +strains   ... or the strains-derived asset (in-sample: it was voted from this corpus)
    +jyutping  ... or ToJyutping: everything the shipped RhymeTable.default() answers

The 宋词 (songci, simplified, not used to build the strains asset) give an out-of-sample check.

    .venv/bin/python scripts/measure_coverage.py [--sample 20000] [--seed 0]
"""

from __future__ import annotations

import argparse
import random
import re
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from build_strain_tones import POEMS_RE, TARBALL, iter_tar_json

from poetcore.prosody.rhymes import RhymeTable, load_pingshui
from poetcore.text.chars import is_han, to_simplified

SONGCI_RE = re.compile(r"^package/dist/songci/ci\.song\.\d+\.json$")
LEVELS = ("raw", "t2s", "table", "+strains", "+jyutping")


def sample_texts(tarball: Path, n: int, seed: int) -> tuple[list[str], list[str]]:
    """Reservoir sample of n Tang+Song poems, plus every 宋词, as plain text."""
    rng = random.Random(seed)
    poems: list[str] = []
    seen = 0
    ci: list[str] = []
    for name, data in iter_tar_json(tarball, lambda m: bool(POEMS_RE.match(m) or SONGCI_RE.match(m))):
        for item in data:
            text = "".join(item.get("paragraphs", []))
            if SONGCI_RE.match(name):
                ci.append(text)
                continue
            seen += 1
            if len(poems) < n:
                poems.append(text)
            else:
                j = rng.randrange(seen)
                if j < n:
                    poems[j] = text
    return poems, ci


def coverage(
    texts: list[str], table: RhymeTable, raw: set[str], raw_s: set[str]
) -> tuple[int, Counter[str], Counter[str]]:
    covered: Counter[str] = Counter()
    missing: Counter[str] = Counter()
    total = 0
    for text in texts:
        for ch in text:
            if not is_han(ch):
                continue
            total += 1
            source = table.tone_source(ch)
            hits = {
                "raw": ch in raw,
                "t2s": to_simplified(ch) in raw_s,
                "table": source == "table",
                "+strains": source in ("table", "strains"),
                "+jyutping": source != "none",
            }
            covered.update(k for k, v in hits.items() if v)
            if source == "none":
                missing[ch] += 1
    return total, covered, missing


def report(title: str, total: int, covered: Counter[str], missing: Counter[str]) -> None:
    print(f"{title}: {total} Han tokens")
    for level in LEVELS:
        print(f"  {level:<10} {covered[level] / total:8.3%}")
    print(f"  still unknown: {sum(missing.values())} tokens, top {missing.most_common(15)}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tarball", type=Path, default=TARBALL)
    ap.add_argument("--sample", type=int, default=20000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    _, members = load_pingshui()
    raw = {c for chars in members.values() for c in chars}
    raw_s = {to_simplified(c) for c in raw}
    table = RhymeTable.default()
    poems, ci = sample_texts(args.tarball, args.sample, args.seed)
    report(
        f"Tang+Song shi, {len(poems)} sampled poems (seed {args.seed})", *coverage(poems, table, raw, raw_s)
    )
    report(f"Song ci, all {len(ci)} (out of sample for the strains asset)", *coverage(ci, table, raw, raw_s))


if __name__ == "__main__":
    main()
