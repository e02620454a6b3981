"""续写 latency next to /poem: the shipped model on this CPU, the same candidates and seeds.

Usage::

    python benchmarks/continue_latency.py            # 20 requests each, n=8 candidates, 五绝 and 七绝
    python benchmarks/continue_latency.py -n 4 --requests 40

Prints p50 / p95 per kind, side by side in one run (the machine is noisy: compare the ratio).
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from poetcore.compose import Composer
from poetcore.request import ComposeRequest

TOPICS = ["秋月", "江雪", "春风", "边塞", "送别", "山居", "夜雨", "登高", "落花", "归雁"]
PREFIXES = {"五绝": ["白日依山尽", "空山新雨后", "千山鸟飞绝", "独坐幽篁里", "春眠不觉晓"],
            "七绝": ["秦时明月汉时关", "朝辞白帝彩云间", "月落乌啼霜满天", "故人西辞黄鹤楼", "春风又绿江南岸"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("-n", type=int, default=8, help="candidates per request")
    args = parser.parse_args()
    torch.set_num_threads(max(1, torch.get_num_threads()))
    composer = Composer.from_pretrained()
    composer.compose("秋月", form="五绝", n=args.n, seed=0)  # warm up
    timings: dict[str, list[float]] = {"poem": [], "xu": []}
    for i in range(args.requests):
        form = ("五绝", "七绝")[i % 2]
        for kind in ("poem", "xu"):  # interleaved: both see the same machine load
            req = (ComposeRequest(TOPICS[i % len(TOPICS)], form, n=args.n, seed=i) if kind == "poem" else
                   ComposeRequest("", form, n=args.n, seed=i, prefix=PREFIXES[form][i % 5]))
            t0 = time.perf_counter()
            [poem] = composer.compose_batch([req])
            timings[kind].append((time.perf_counter() - t0) * 1000)
            assert not isinstance(poem, Exception), poem
    for kind, ms in timings.items():
        p95 = statistics.quantiles(ms, n=20)[18]
        print(f"{kind:>4}: n={args.n} candidates, {len(ms)} requests  p50 {statistics.median(ms):.0f} ms  p95 {p95:.0f} ms")
    ratio = statistics.median(timings["xu"]) / statistics.median(timings["poem"])
    print(f"xu / poem p50 ratio: {ratio:.2f}")


if __name__ == "__main__":
    main()
