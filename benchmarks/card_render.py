"""Poem-card benchmark: render time and PNG size per form (五绝 七绝 五律 七律, two 词), both scripts.

Usage::

    python benchmarks/card_render.py                  # 30 renders of each card after one warm-up
    python benchmarks/card_render.py -n 100 --out docs/cards   # also save each card as PNG

Cold is the first card of the process: reading the font's cmap and opening its faces (once per
process), then drawing. Warm renders are what each /card costs afterwards: layout, drawing, palette
quantisation and PNG encoding, all on one core (the bot draws in a worker thread). Exits 1 when a 七律
card is 200 KB or more, or a warm p95 is 300 ms or more (the issue's bounds).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from io import BytesIO
from pathlib import Path

from PIL import Image

from bots.core.cards import CardPoem, find_font, load_font, render_card
from poetcore.text.chars import to_traditional
from worker.contract.protocol import PoemPayload

MAX_BYTES = 200 * 1024
MAX_P95_MS = 300.0

POEMS: dict[str, dict[str, object]] = {
    "五绝": {"title": "登鹳雀楼", "lines": ["白日依山尽", "黄河入海流", "欲穷千里目", "更上一层楼"], "form": "五绝",
             "rhyme_group": "尤"},
    "七绝": {"title": "早发白帝城", "lines": ["朝辞白帝彩云间", "千里江陵一日还", "两岸猿声啼不住", "轻舟已过万重山"],
             "form": "七绝", "rhyme_group": "删"},
    "五律": {"title": "春望", "lines": ["国破山河在", "城春草木深", "感时花溅泪", "恨别鸟惊心", "烽火连三月", "家书抵万金",
                                      "白头搔更短", "浑欲不胜簪"], "form": "五律", "rhyme_group": "侵"},
    "七律": {"title": "登高", "lines": ["风急天高猿啸哀", "渚清沙白鸟飞回", "无边落木萧萧下", "不尽长江滚滚来",
                                      "万里悲秋常作客", "百年多病独登台", "艰难苦恨繁霜鬓", "潦倒新停浊酒杯"],
             "form": "七律", "rhyme_group": "灰"},
    "词·如梦令": {"title": "如梦令", "lines": ["常记溪亭日暮", "沉醉不知归路", "兴尽晚回舟", "误入藕花深处", "争渡", "争渡",
                                         "惊起一滩鸥鹭"], "form": "如梦令", "rhyme_group": "第四部仄",
               "marks": "。。，。，，。", "kind": "词"},
    "词·念奴娇": {"title": "赤壁怀古", "lines": ["大江东去", "浪淘尽", "千古风流人物", "故垒西边", "人道是", "三国周郎赤壁",
                                           "乱石穿空", "惊涛拍岸", "卷起千堆雪", "江山如画", "一时多少豪杰", "遥想公瑾当年",
                                           "小乔初嫁了", "雄姿英发", "羽扇纶巾", "谈笑间", "樯橹灰飞烟灭", "故国神游",
                                           "多情应笑我", "早生华发", "人生如梦", "一尊还酹江月"],
               "form": "念奴娇", "rhyme_group": "第十八部入", "marks": "，，。，，。，，。，。，，。，，。，，。，。",
               "kind": "词"},
}


def card(name: str, traditional: bool) -> CardPoem:
    poem = dict(POEMS[name])
    if traditional:
        poem["lines"] = [to_traditional(str(line)) for line in poem["lines"]]  # type: ignore[union-attr]
        poem["title"] = to_traditional(str(poem["title"]))
    return CardPoem.from_payload(PoemPayload(text="", traditional=traditional, **poem))  # type: ignore[arg-type]


def pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=30, help="warm renders per card")
    parser.add_argument("--out", type=Path, help="save each card here as <form>[-繁].png")
    args = parser.parse_args()

    t0 = time.perf_counter()
    font = load_font(find_font())
    render_card(card("七律", False), font)
    cold_ms = (time.perf_counter() - t0) * 1000
    print(f"font {font.path.name} ({len(font.cmap)} characters); cold first card {cold_ms:.0f} ms")
    print(f"{'card':<14}{'size':>11}{'bytes':>9}{'p50 ms':>9}{'p95 ms':>9}")
    failed = []
    for name in POEMS:
        for traditional in (False, True):
            poem = card(name, traditional)
            render_card(poem, font)  # warm this card's faces
            times, png = [], b""
            for _ in range(args.n):
                start = time.perf_counter()
                png = render_card(poem, font)
                times.append((time.perf_counter() - start) * 1000)
            with Image.open(BytesIO(png)) as image:
                size = f"{image.width}x{image.height}"
            label = name + ("·繁" if traditional else "")
            p50, p95 = statistics.median(times), pct(times, 95)
            print(f"{label:<14}{size:>11}{len(png):>9,}{p50:>9.0f}{p95:>9.0f}")
            if (name == "七律" and len(png) >= MAX_BYTES) or p95 >= MAX_P95_MS:
                failed.append(label)
            if args.out:
                args.out.mkdir(parents=True, exist_ok=True)
                (args.out / f"{name.replace('·', '-')}{'-繁' if traditional else ''}.png").write_bytes(png)
    if failed:
        print(f"over the bounds (七律 < {MAX_BYTES // 1024} KB, p95 < {MAX_P95_MS:.0f} ms): {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
