"""Line-index benchmark: lookup and near-miss latency over a built index, and the RSS it costs.

Usage::

    python benchmarks/line_index.py                       # data/lines.sqlite (poetcore data lines)
    python benchmarks/line_index.py --index poetcore/assets/lines/builtin-lines.sqlite -n 2000

Queries are real lines sampled from the index itself (exact lookups, half of them typed in
traditional characters with punctuation), and the same lines with one or two characters changed
(near misses, with the line's first character as the 令字). Prints p50/p99 in ms, and the resident
set size before opening the index and after all queries.
"""

from __future__ import annotations

import argparse
import random
import resource
import sqlite3
import statistics
import time
from pathlib import Path

from poetcore.lines import LineIndex
from poetcore.text.chars import to_traditional


def rss_mib() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--index", type=Path, default=Path("data/lines.sqlite"))
    parser.add_argument("-n", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    db = sqlite3.connect(f"file:{args.index}?mode=ro", uri=True)
    total = db.execute("SELECT COUNT(*) FROM lines").fetchone()[0]
    ids = rng.sample(range(1, total + 1), min(args.n, total))
    lines = [db.execute("SELECT text FROM lines WHERE id = ?", (i,)).fetchone()[0] for i in ids]
    chars = sorted({ch for line in lines for ch in line})
    db.close()

    before = rss_mib()
    index = LineIndex(args.index)
    exact: list[float] = []
    found = 0
    for i, line in enumerate(lines):
        query = to_traditional(line) + "。" if i % 2 else line
        t0 = time.perf_counter()
        found += index.lookup(query) is not None
        exact.append((time.perf_counter() - t0) * 1000)
    near: list[float] = []
    hits = 0
    for line in lines:
        chars_list = list(line)
        for _ in range(rng.choice((1, 2))):
            k = rng.randrange(1, len(chars_list))
            chars_list[k] = rng.choice(chars)
        t0 = time.perf_counter()
        hits += bool(index.near_misses("".join(chars_list), containing=line[0]))
        near.append((time.perf_counter() - t0) * 1000)
    token: list[float] = []
    for ch in rng.sample(chars, min(200, len(chars))):
        t0 = time.perf_counter()
        index.with_char(ch, position=rng.choice((None, 1, 3, 5)), limit=10)
        token.append((time.perf_counter() - t0) * 1000)
    after = rss_mib()
    print(f"index {args.index}: {index.info.lines:,} lines, {args.index.stat().st_size / 2**20:.1f} MiB")
    print(f"exact lookup   n={len(exact)}  p50 {pct(exact, 50):.3f} ms  p99 {pct(exact, 99):.3f} ms  found {found}/{len(lines)}")
    print(f"near miss      n={len(near)}  p50 {pct(near, 50):.2f} ms  p99 {pct(near, 99):.2f} ms  found {hits}/{len(lines)}")
    print(f"lines with 字  n={len(token)}  p50 {pct(token, 50):.2f} ms  p99 {pct(token, 99):.2f} ms")
    print(f"RSS {before:.0f} MiB before opening, {after:.0f} MiB after all queries (+{after - before:.0f} MiB)")


if __name__ == "__main__":
    main()
