"""Line-index benchmark: lookup, slip, near-miss and lines-with-a-character latency, and the RSS it costs.

Usage::

    python benchmarks/line_index.py                 # the built-in index (what a fresh install judges with)
    python benchmarks/line_index.py --index data/lines.sqlite -n 2000   # the full one (poetcore data lines)

Queries are real lines sampled from the index itself: exact lookups (half of them typed in
traditional characters with punctuation); the same lines with one character changed, judged as a
飞花令 answer with the line's first character as the 令字 (`LineIndex.match`: a slip of a famous line
is taken for it, anything else falls to the near-miss search, as `FeihuaReferee` does); and lines
with a character at a position (the bot's own lines, hints). Prints p50/p99 in ms, and the resident
set size before opening the index and after all queries.
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import time
from pathlib import Path

from poetcore.lines import LineIndex, open_line_index
from poetcore.text.chars import to_traditional


def rss_mib() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else values[0]


def timed(samples: list[float], fn, *args, **kw):  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    out = fn(*args, **kw)
    samples.append((time.perf_counter() - t0) * 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--index", type=Path, default=None, help="an index file (default: the built-in one)")
    parser.add_argument("-n", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    before = rss_mib()
    t0 = time.perf_counter()
    index = LineIndex(args.index) if args.index else open_line_index(None)
    opened_ms = (time.perf_counter() - t0) * 1000
    total = index.info.lines
    famous = index.info.famous_lines
    # Half the sample among the famous lines (what players type), half anywhere.
    ids = rng.sample(range(1, famous + 1), min(args.n // 2, famous)) + rng.sample(range(1, total + 1), args.n // 2)
    lines = [r.text for r in (index.get(i) for i in ids) if r is not None]
    chars = sorted({ch for line in lines for ch in line})

    exact: list[float] = []
    found = sum(timed(exact, index.lookup, to_traditional(line) + "。" if i % 2 else line) is not None
                for i, line in enumerate(lines))
    judged: list[float] = []
    slips = nears = 0
    for line in lines:
        k = rng.randrange(1, len(line))
        typo = line[:k] + rng.choice(chars) + line[k + 1:]
        t1 = time.perf_counter()
        match = index.match(typo, containing=line[0])
        if match is None:
            nears += bool(index.near_misses(typo, containing=line[0], limit=1))
        else:
            slips += match.kind == "slip"
        judged.append((time.perf_counter() - t1) * 1000)
    near: list[float] = []
    near_found = 0
    for line in lines:  # the near-miss search alone, one or two characters changed (没背熟)
        chars_list = list(line)
        for _ in range(rng.choice((1, 2))):
            chars_list[rng.randrange(1, len(chars_list))] = rng.choice(chars)
        near_found += bool(timed(near, index.near_misses, "".join(chars_list), containing=line[0]))
    token: list[float] = []
    for ch in rng.sample(chars, min(200, len(chars))):
        timed(token, index.with_char, ch, position=rng.choice((None, 1, 3, 5)), limit=10)
    after = rss_mib()
    size = index.path.stat().st_size / 2**20
    print(f"index {index.info.name} ({index.path}): {total:,} lines, {famous:,} famous, {size:.1f} MiB, "
          f"opened in {opened_ms:.0f} ms")
    print(f"exact lookup      n={len(exact)}  p50 {pct(exact, 50):.3f} ms  p99 {pct(exact, 99):.3f} ms  "
          f"found {found}/{len(lines)}")
    print(f"answer, one typo  n={len(judged)}  p50 {pct(judged, 50):.2f} ms  p99 {pct(judged, 99):.2f} ms  "
          f"slips {slips}, near misses {nears}")
    print(f"near misses only  n={len(near)}  p50 {pct(near, 50):.2f} ms  p99 {pct(near, 99):.2f} ms  "
          f"found {near_found}/{len(lines)}")
    print(f"lines with 字     n={len(token)}  p50 {pct(token, 50):.2f} ms  p99 {pct(token, 99):.2f} ms")
    print(f"RSS {before:.0f} MiB before opening, {after:.0f} MiB after all queries (+{after - before:.0f} MiB)")


if __name__ == "__main__":
    main()
