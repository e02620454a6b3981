"""Compose latency of two checkouts, side by side in one run (a refactor must stay within noise).

Usage::

    python benchmarks/ab_compose.py --before /tmp/old-checkout            # this checkout is "after"
    python benchmarks/ab_compose.py --before /tmp/old --rounds 5 --poems 8

Each round times ``--poems`` seeded 七绝/五律 requests (shipped model, its own decoding defaults) in a
fresh process per checkout, alternating before/after so machine noise hits both alike; the model
load is outside the timing. Quote the ratio of the medians.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TIMER = """
import json, sys, time
from poetcore.compose import Composer
from poetcore.request import ComposeRequest
c = Composer.from_pretrained(device="cpu")
reqs = [ComposeRequest(t, form=f, seed=i) for i, (t, f) in enumerate(
    [("秋月", "七绝"), ("春雨", "五律"), ("送别", "七绝"), ("登高", "五律")] * 8)][:int(sys.argv[1])]
c.compose_batch(reqs[:1])  # warm-up
out = []
for r in reqs:
    t = time.perf_counter(); c.compose_batch([r]); out.append(time.perf_counter() - t)
print(json.dumps(out))
"""


def _times(code: Path, poems: int) -> list[float]:
    proc = subprocess.run([sys.executable, "-c", TIMER, str(poems)], cwd=code, capture_output=True, text=True,
                          env={"PYTHONPATH": str(code), "PATH": "/usr/bin:/bin", "HOME": "/tmp"}, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", required=True, type=Path)
    parser.add_argument("--after", default=ROOT, type=Path)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--poems", type=int, default=8)
    args = parser.parse_args()
    got: dict[str, list[float]] = {"before": [], "after": []}
    for _ in range(args.rounds):
        for side in ("before", "after"):
            got[side] += _times(getattr(args, side), args.poems)
    b, a = statistics.median(got["before"]) * 1000, statistics.median(got["after"]) * 1000
    print(f"ms per poem, median of {len(got['after'])}: before {b:.0f}  after {a:.0f}  after/before {a / b:.3f}")


if __name__ == "__main__":
    main()
