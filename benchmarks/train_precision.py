"""Training step time, fp32 vs bf16 autocast, for several model shapes, side by side in one run.

Usage::

    python benchmarks/train_precision.py                      # 4x256 and 6x384, 12 steps each
    python benchmarks/train_precision.py --shapes 4x256,8x512 --steps 20

Each step is forward + loss + backward + AdamW on a batch of random 七绝-length examples (the
trainer's own `_autocast`), so the numbers are what `poetcore train` pays per step. Cases are
interleaved (fp32, bf16, fp32, bf16 ...) so machine noise hits both alike; the ratio is the number
to quote.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from transformers import AutoModelForCausalLM, LlamaConfig

from poetcore.model.train import _autocast


def _model(layers: int, hidden: int, vocab: int) -> torch.nn.Module:
    config = LlamaConfig(
        vocab_size=vocab, hidden_size=hidden, intermediate_size=int(hidden * 2.6875),
        num_hidden_layers=layers, num_attention_heads=hidden // 64, num_key_value_heads=hidden // 64,
        max_position_embeddings=128, tie_word_embeddings=True,
    )
    torch.manual_seed(0)
    return AutoModelForCausalLM.from_config(config)


def _step_times(layers: int, hidden: int, args: argparse.Namespace) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {"fp32": [], "bf16": []}
    models = {name: _model(layers, hidden, args.vocab) for name in times}
    opts = {name: torch.optim.AdamW(m.parameters(), lr=1e-4) for name, m in models.items()}
    ids = torch.randint(20, args.vocab, (args.batch, args.seq))  # (B, T)
    for i in range(args.steps + 2):
        for name, model in models.items():
            t0 = time.perf_counter()
            with _autocast(torch.device("cpu"), name == "bf16"):
                loss = model(input_ids=ids, labels=ids).loss
            loss.backward()
            opts[name].step()
            opts[name].zero_grad(set_to_none=True)
            if i >= 2:  # the first steps allocate and warm the kernels
                times[name].append(time.perf_counter() - t0)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shapes", default="4x256,6x384", help="layers x hidden, comma-separated")
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--seq", type=int, default=40, help="tokens per example (七绝 + prompt)")
    parser.add_argument("--vocab", type=int, default=8287)
    args = parser.parse_args()
    print(f"threads {torch.get_num_threads()}, batch {args.batch} x {args.seq} tokens")
    print(f"{'shape':>8} {'params':>8} {'fp32 s/step':>12} {'bf16 s/step':>12} {'speed-up':>9}")
    for shape in args.shapes.split(","):
        layers, hidden = (int(x) for x in shape.split("x"))
        times = _step_times(layers, hidden, args)
        n_params = sum(p.numel() for p in _model(layers, hidden, args.vocab).parameters())
        fp32, bf16 = statistics.median(times["fp32"]), statistics.median(times["bf16"])
        print(f"{shape:>8} {n_params / 1e6:>7.1f}M {fp32:>12.3f} {bf16:>12.3f} {fp32 / bf16:>8.2f}x")


if __name__ == "__main__":
    main()
