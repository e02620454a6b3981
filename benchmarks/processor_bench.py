"""Per-step time of the 格律 constraint processor at several batch sizes, old vs new, in one run.

Usage::

    python benchmarks/processor_bench.py                       # batch 8, 64, 512 on CPU; before = f84e2e9
    python benchmarks/processor_bench.py --before <rev> --batches 8,64,512 --device cuda
    python benchmarks/processor_bench.py --before 2fd0663 --copy-guard   # the guard's lookups, old vs new

"Before" is ``poetcore/constraints.py`` at a git revision older than the ``poetcore.decoding`` package
(f84e2e9: the per-row Python loop), loaded from ``git show`` into its own module; "after" is this checkout's. Both decode the same 七绝 batch (the
shipped tokenizer's vocabulary, random logits, greedy) step by step, and only the processor call
is timed. Cases are interleaved per repeat so machine noise hits both alike: quote the ratio.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

import torch

from poetcore.lexicon.rhyme_usage import RhymeUsage
from poetcore.lexicon.seasons import SeasonLexicon
from poetcore.model.modeling import default_model_dir
from poetcore.model.tokenizer import load_tokenizer
from poetcore.prosody.forms import get_form
from poetcore.prosody.rhymes import RhymeTable

ROOT = Path(__file__).resolve().parents[1]


def load_revision(rev: str) -> ModuleType:
    source = subprocess.run(["git", "show", f"{rev}:poetcore/constraints.py"], cwd=ROOT, capture_output=True,
                            text=True, check=True).stdout
    path = Path(tempfile.mkdtemp()) / "constraints_before.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("constraints_before", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["constraints_before"] = module
    spec.loader.exec_module(module)
    return module


def step_times(module: ModuleType, masks: object, batch: int, device: torch.device, seed: int,
               guard: object = None) -> list[float]:
    """Seconds per processor call over one whole poem."""
    specs = [module.PoemSpec(get_form("七绝"), topic="秋月")] * batch
    extra = {"copy_guard": guard} if guard is not None else {}
    proc = module.PoemConstraintLogitsProcessor(specs, masks, prompt_length=4, topic_bias=2.5, **extra)
    V = masks.vocab_size  # type: ignore[attr-defined]
    gen = torch.Generator(device="cpu").manual_seed(seed)
    ids = torch.full((batch, 4), 2, dtype=torch.long, device=device)
    times = []
    for _ in range(proc.max_new_tokens):
        scores = torch.randn(batch, V, generator=gen).to(device)
        if device.type == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        out = proc(ids, scores)
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
        ids = torch.cat([ids, out.argmax(-1, keepdim=True)], dim=1)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default="f84e2e9", help="git revision of the per-row loop version")
    parser.add_argument("--batches", default="8,64,512")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--copy-guard", action="store_true", help="both sides block corpus lines (poetcore.lexicon.copyguard)")
    args = parser.parse_args()
    guard = None
    if args.copy_guard:
        from poetcore.lexicon.copyguard import CorpusLines

        guard = CorpusLines.default()
    device = torch.device(args.device)
    tokenizer = load_tokenizer(default_model_dir())
    table = RhymeTable.default()
    from poetcore.decoding import masks as after_masks
    from poetcore.decoding import processor as after_processor
    from poetcore.decoding import spec as after_spec

    after = ModuleType("after")  # the three modules constraints.py was split into, under its old names
    after.VocabMasks = after_masks.VocabMasks  # type: ignore[attr-defined]
    after.PoemSpec = after_spec.PoemSpec  # type: ignore[attr-defined]
    after.PoemConstraintLogitsProcessor = after_processor.PoemConstraintLogitsProcessor  # type: ignore[attr-defined]

    before = load_revision(args.before)
    masks = {
        "before": before.VocabMasks(tokenizer, table, RhymeUsage.default(), SeasonLexicon.default()),
        "after": after.VocabMasks(tokenizer, table, RhymeUsage.default(), SeasonLexicon.default()),
    }
    modules = {"before": before, "after": after}
    print(f"device {device}, threads {torch.get_num_threads()}, 七绝 ({get_form('七绝').n_lines} lines), "
          f"vocabulary {len(tokenizer)}; ms per processor call, median over {args.repeats} poems")
    print(f"{'batch':>6} {'before ms':>10} {'after ms':>10} {'speed-up':>9} {'per poem before':>16} {'after':>8}")
    for batch in (int(b) for b in args.batches.split(",")):
        got: dict[str, list[float]] = {"before": [], "after": []}
        poem: dict[str, list[float]] = {"before": [], "after": []}
        for r in range(args.repeats):
            for name in ("before", "after"):
                times = step_times(modules[name], masks[name], batch, device, seed=r, guard=guard)
                got[name] += times
                poem[name].append(sum(times))
        b, a = statistics.median(got["before"]) * 1000, statistics.median(got["after"]) * 1000
        pb, pa = statistics.median(poem["before"]) * 1000, statistics.median(poem["after"]) * 1000
        print(f"{batch:>6} {b:>10.2f} {a:>10.2f} {b / a:>8.1f}x {pb:>16.1f} {pa:>8.1f}")


if __name__ == "__main__":
    main()
