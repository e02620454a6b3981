"""Copy a trained run into the package and write its model card (README.md beside the weights)."""

from __future__ import annotations

import json
import logging
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from poetcore.model.critic import CRITIC_SUBDIR
from poetcore.model.modeling import default_model_dir, with_poem_defaults
from poetcore.model.tokenizer import load_tokenizer

log = logging.getLogger(__name__)

CARD_EXTRA_FILE = "card_extra.json"
"""Lines a run adds to its model card (lineage, preference training), merged with ``extra``."""

SHIPPED_FILES = ("config.json", "generation_config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json")
MAX_SHIPPED_MB = 60


def ship_model(run_dir: Path, dest: Path | None = None, baseline: dict[str, Any] | None = None,
               corpus_manifest: Path | None = None, extra: dict[str, Any] | None = None) -> Path:
    """Copy ``run_dir/final`` to ``dest`` (default: the package's assets/model) with a model card."""
    src = run_dir / "final"
    dest = dest or default_model_dir()
    missing = [f for f in ("config.json", "model.safetensors", "tokenizer.json") if not (src / f).exists()]
    if missing:
        raise FileNotFoundError(f"{src} lacks {', '.join(missing)}; train first with `poetcore train`")
    size_mb = (src / "model.safetensors").stat().st_size / 2**20
    if size_mb > MAX_SHIPPED_MB:
        raise ValueError(f"model.safetensors is {size_mb:.1f} MB, over the {MAX_SHIPPED_MB} MB limit for the repo")
    dest.mkdir(parents=True, exist_ok=True)
    for name in SHIPPED_FILES:
        if (src / name).exists():
            shutil.copy2(src / name, dest / name)
    _ship_critic(src, dest)
    _write_generation_config(dest)
    summary = json.loads((run_dir / "summary.json").read_text()) if (run_dir / "summary.json").exists() else {}
    history = []
    if (run_dir / "metrics.jsonl").exists():
        history = [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines() if x.strip()]
    manifest = json.loads(corpus_manifest.read_text()) if corpus_manifest and corpus_manifest.exists() else {}
    if (run_dir / CARD_EXTRA_FILE).exists():
        extra = {**json.loads((run_dir / CARD_EXTRA_FILE).read_text(encoding="utf-8")), **(extra or {})}
    card = model_card(json.loads((src / "config.json").read_text()), summary, history, baseline or {}, manifest,
                      size_mb, extra or {})
    (dest / "README.md").write_text(card, encoding="utf-8")
    (dest / "training_summary.json").write_text(
        json.dumps({"summary": summary, "baseline": baseline or {}, "history": history, **(extra or {})},
                   ensure_ascii=False, indent=2)
    )
    return dest


def _ship_critic(src: Path, dest: Path) -> None:
    """A critic judges the samples of the LM it was trained against: ship the run's own critic, and never
    leave the previous model's critic beside a new LM (the composer then reranks without one)."""
    old, new = dest / CRITIC_SUBDIR, src / CRITIC_SUBDIR
    if old.exists():
        shutil.rmtree(old)
        if not new.exists():
            log.warning("ship: removed %s, trained on the previous model; train one with `poetcore tune critic`", old)
    if new.exists():
        shutil.copytree(new, old)


def _write_generation_config(model_dir: Path) -> None:
    """The shipped generation_config.json always carries the decoding defaults `Composer` reads."""
    path = model_dir / "generation_config.json"
    saved = json.loads(path.read_text()) if path.exists() else {}
    config = with_poem_defaults(saved, load_tokenizer(model_dir))  # type: ignore[arg-type]
    if config is not None:
        config.save_pretrained(model_dir)


def _history_row(h: dict[str, Any]) -> str:
    ci = f"{h['valid_ci_bpc']:.3f}" if "valid_ci_bpc" in h else "–"
    return f"| {h['step']} | {h['train_loss']:.3f} | {h['valid_bpc']:.3f} | {ci} | {h['elapsed_s'] / 60:.1f} |"


def model_card(config: dict[str, Any], summary: dict[str, Any], history: list[dict[str, Any]],
               baseline: dict[str, Any], manifest: dict[str, Any], size_mb: float, extra: dict[str, Any]) -> str:
    splits = manifest.get("splits", {})
    forms = manifest.get("forms", {})
    rows = "\n".join(_history_row(h) for h in history)
    ci = manifest.get("ci", {})
    raw = f"{ci['raw']:,}" if isinstance(ci.get("raw"), int) else "?"
    ci_line = (f"- 宋词: {summary.get('train_ci', 0):,} of the package's {raw} 词 train alongside, each under "
               f"its 词牌 form token (`<|词·浣溪沙|>`; 词牌 with >= 20 training 词, that fit the context); "
               f"{summary.get('valid_ci', 0)} validation 词 are scored apart (词 bpc below)."
               if summary.get("train_ci") else "- 宋词: not in the training data.")
    others = "\n".join(f"- {k}: {v}" for k, v in extra.items())
    return f"""---
language: zh
license: mit
library_name: transformers
pipeline_tag: text-generation
tags: [poetry, classical-chinese, char-level, llama]
---

# poetcore {summary.get("preset", "")}: a char-level Llama for 近体诗

A small causal LM trained from scratch by the Poetcore project to write 五绝, 七绝, 五律 and 七律.
It is always used with poetcore's constrained decoding (`poetcore.decoding.processor`), which guarantees
line shape, 平仄 and 平水韵 rhyme; the model supplies the wording.

## Data
- Source: npm package `chinese-poetry@2.0.1` (MIT), 全唐诗 + 全宋诗, prepared by `poetcore data prepare`
  (t2s with OpenCC, cleaning, four regular forms only). Manifest date: {manifest.get("created", "n/a")}.
- Poems per split: train {splits.get("train", {}).get("poems", "?")}, valid {splits.get("valid", {}).get("poems", "?")},
  test {splits.get("test", {}).get("poems", "?")}. Forms: {json.dumps(forms, ensure_ascii=False)}.
{ci_line}
- Conditioning: `<|bos|><|form|>(<|kw|>keyword)*<|poem|>body<|eos|>`; keywords come from the corpus
  keyword extractor or random characters/bigrams of the body (so any topic characters can be used).

## Model
- `LlamaForCausalLM`: hidden {config.get("hidden_size")}, layers {config.get("num_hidden_layers")},
  heads {config.get("num_attention_heads")}, MLP {config.get("intermediate_size")}, vocab {config.get("vocab_size")}
  (one token per character), tied embeddings; {summary.get("parameters", "?")} parameters; safetensors {size_mb:.1f} MB.

## Training
- Config `{summary.get("preset", "?")}` on {summary.get("device", "?")}: {summary.get("steps", "?")} steps
  ({summary.get("epochs", 0):.2f} epochs) in {summary.get("train_minutes", 0):.1f} minutes; AdamW, warm-up then cosine
  decay over the step or wall-clock budget, gradient clipping 1.0, precision {summary.get("precision", "fp32")}
  (bf16 autocast only where the hardware has native bf16; see `poetcore train --precision`).
  Loss only on the poem body. Stop reason: {summary.get("stop_reason", "?")}.

| step | train loss (nats) | 诗 valid bpc | 词 valid bpc | minutes |
|---|---|---|---|---|
{rows}

## Evaluation
- Validation bits per character (poem body + EOS, first {baseline.get("valid_poems", "3000")} valid 诗, the same
  poems for every model since the first):
  **model {summary.get("best_valid_bpc", float("nan")):.3f}** vs character 3-gram baseline
  (interpolated absolute discounting) {baseline.get("trigram_valid_bpc", float("nan")):.3f}.
{others}

Reproduce: `poetcore data prepare && poetcore train --config {summary.get("preset", "cpu-small")} && poetcore baseline`.

## License and limits
MIT, like the corpus. The model imitates Tang and Song verse; it can produce lines that are
grammatical but vague, and it knows nothing after the Song dynasty. Shipped {datetime.now(UTC).date()}.
"""
