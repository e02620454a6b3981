"""Named model configs and the model factory.

The model is a stock HF Llama (``LlamaForCausalLM``) so that ``from_pretrained``, ``generate``,
``save_pretrained`` and every HF tool work unchanged; only the sizes are ours.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from transformers import (
    AutoModelForCausalLM,
    GenerationConfig,
    LlamaConfig,
    PreTrainedModel,
    PreTrainedTokenizerFast,
)

from poetcore.paths import asset_path


@dataclass(frozen=True)
class ModelSize:
    """Transformer shape; sizes chosen by measured tokens/s on the target hardware (see train.py)."""

    hidden_size: int
    num_hidden_layers: int
    num_attention_heads: int
    intermediate_size: int  # SwiGLU width, ~2.7x hidden as in Llama
    max_position_embeddings: int = 128  # longest example (七律 + prompt) is < 90 tokens
    tie_word_embeddings: bool = True  # halves embedding params; the char softmax dominates small models


@dataclass(frozen=True)
class TrainPreset:
    """A named training recipe: model shape plus optimisation schedule."""

    name: str
    size: ModelSize
    batch_size: int
    lr: float
    max_steps: int
    warmup_steps: int
    eval_every: int
    weight_decay: float = 0.1
    grad_clip: float = 1.0
    max_minutes: float | None = None  # wall-clock cap; the cosine schedule is still defined by max_steps


PRESETS: dict[str, TrainPreset] = {
    "tiny": TrainPreset(
        name="tiny",
        size=ModelSize(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64),
        batch_size=16,
        lr=3e-3,
        max_steps=60,
        warmup_steps=5,
        eval_every=30,
    ),
    "cpu-small": TrainPreset(
        name="cpu-small",
        size=ModelSize(hidden_size=256, num_hidden_layers=4, num_attention_heads=4, intermediate_size=688),
        batch_size=64,
        lr=2e-3,
        max_steps=4000,  # ~1.45 s/step on 2 idle cores (2.1k tok/s at batch 64); the time cap usually ends it
        warmup_steps=50,
        eval_every=400,
        max_minutes=85,  # lr decays over the wall-clock budget (train.py), eval + export fit in the rest
    ),
    "cpu-medium": TrainPreset(  # 2.6x the parameters of cpu-small; 1.65x its bf16 step time on CPU
        name="cpu-medium",
        size=ModelSize(hidden_size=384, num_hidden_layers=6, num_attention_heads=6, intermediate_size=1024),
        batch_size=64,
        lr=1.5e-3,
        max_steps=4000,
        warmup_steps=50,
        eval_every=400,
        max_minutes=85,
    ),
    "gpu-base": TrainPreset(
        name="gpu-base",
        size=ModelSize(hidden_size=512, num_hidden_layers=8, num_attention_heads=8, intermediate_size=1376),
        batch_size=256,
        lr=1e-3,
        max_steps=12000,
        warmup_steps=500,
        eval_every=1000,
        max_minutes=19,
    ),
}


def get_preset(name: str) -> TrainPreset:
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(f"unknown config {name!r}; choose one of: {', '.join(PRESETS)}") from None


def llama_config(size: ModelSize, tokenizer: PreTrainedTokenizerFast) -> LlamaConfig:
    return LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=size.hidden_size,
        intermediate_size=size.intermediate_size,
        num_hidden_layers=size.num_hidden_layers,
        num_attention_heads=size.num_attention_heads,
        num_key_value_heads=size.num_attention_heads,
        max_position_embeddings=size.max_position_embeddings,
        tie_word_embeddings=size.tie_word_embeddings,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        rms_norm_eps=1e-5,
    )


SAMPLING_DEFAULTS: dict[str, object] = {
    "do_sample": True,
    "temperature": 0.75,  # 0.7-0.75 read more coherently than 0.85 on cpu-small samples
    "top_p": 0.95,
    "top_k": 0,  # top-p alone; the constraint mask already removes most of the vocabulary
    "num_beams": 8,  # beam sampling: blind round 4-beam, coherent 46% vs 17% for plain sampling
}
"""HF generation fields of ``generation_config.json`` (beam sampling, as shipped)."""

DECODING_DEFAULTS: dict[str, float] = {
    "topic_bias": 2.5,  # measured: coverage 0.85 -> 0.96 vs 1.5, mean log-prob -4.02 -> -4.06
    "topic_margin": 4.0,
    "season_penalty": 3.0,  # round 3-season: 0 of 60 poems mix seasons (12 of 60 at 0), preferred 21 : 11
    "coverage_weight": 1.0,
    "line_fit_weight": 0.0,
    "candidates": 8.0,  # candidates per poem when a request names none
    "critic_weight": 0.0,  # rerank weight of the critic's log-odds (poetcore.model.critic); 0: off
    "block_copies": 1.0,  # 1: no line may equal a corpus line (poetcore.lexicon.copyguard); 0: off
    "topic_opening": 1.0,  # 1: a topic character may open the poem; 0: not (ours did 19 times in 20, real 七绝 1%)
}
"""Poetcore's own decoding knobs, saved as extra keys of ``generation_config.json``."""


def poem_generation_config(tokenizer: PreTrainedTokenizerFast, **overrides: object) -> GenerationConfig:
    """The generation config every model of ours is saved with (`Composer` reads it back)."""
    return GenerationConfig(
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        **{**SAMPLING_DEFAULTS, **DECODING_DEFAULTS, **overrides},
    )


def with_poem_defaults(saved: dict[str, object], tokenizer: PreTrainedTokenizerFast) -> GenerationConfig | None:
    """The config to save for a model whose generation_config.json (``saved``) predates our decoding
    defaults (HF's own would decode greedily), keeping any of our keys it has; None when it has them."""
    if "topic_bias" in saved:
        return None
    return poem_generation_config(tokenizer, **{k: saved[k] for k in DECODING_DEFAULTS if k in saved})


def ensure_poem_generation_config(model: PreTrainedModel, tokenizer: PreTrainedTokenizerFast) -> bool:
    """Give an older or foreign model our decoding defaults; True when it changed."""
    config = with_poem_defaults(model.generation_config.to_diff_dict(), tokenizer)
    if config is not None:
        model.generation_config = config
    return config is not None


def new_model(size: ModelSize, tokenizer: PreTrainedTokenizerFast, seed: int = 0) -> PreTrainedModel:
    """A freshly initialised causal LM of the given shape."""
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(llama_config(size, tokenizer))
    model.generation_config = poem_generation_config(tokenizer)
    return model


def default_model_dir() -> Path:
    """Where the shipped model lives inside the installed package."""
    return asset_path("model")
