"""The critic: a classifier that tells real poems from ours, used to rerank sampled candidates.

Why a critic: the LM's own score prefers its safest phrases, the stock lines that fit any poem
(不知何处, 独倚阑干) and that readers name as the tell of a machine. A classifier trained on real
poems against our own samples learns those tells directly; reranking a broad sampled candidate set by
it moves the choice away from them (the discriminator half of the poetry-GAN idea, used at decoding
time, where it cannot destabilise the generator).

The critic is a stock HF ``LlamaForSequenceClassification`` with one logit: the log-odds that a poem
is real. It starts from the LM's own weights (``from_pretrained`` of the LM directory) and ships inside
the model directory it was trained against (``<model>/critic/``): its negatives are that model's
samples, so a new LM needs a new critic.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import torch
from transformers import AutoModelForSequenceClassification, PreTrainedModel

from poetcore.model.tokenizer import EOS, format_body, format_prompt, load_tokenizer

log = logging.getLogger(__name__)

CRITIC_SUBDIR = "critic"
"""Where a model directory keeps the critic trained on its samples."""


def critic_text(form: str, lines: Sequence[str]) -> str:
    """What the critic reads: form token and the poem, without the topic keywords (it judges the
    text, not whether it matches a request)."""
    return format_prompt(form) + format_body(lines) + EOS


def critic_dir(model_dir: str | Path) -> Path:
    return Path(model_dir) / CRITIC_SUBDIR


def new_critic(lm_dir: str | Path) -> PreTrainedModel:
    """A critic initialised from the LM in ``lm_dir``: its body reused, a fresh one-logit head."""
    model = AutoModelForSequenceClassification.from_pretrained(lm_dir, num_labels=1, local_files_only=True)
    return model


class PoemCritic:
    """Loads a critic once and scores poems: higher means more like a real poem."""

    def __init__(self, model, tokenizer, device: torch.device | str | None = None, batch_size: int = 64) -> None:
        self.device = torch.device(device) if device is not None else next(model.parameters()).device
        self.model = model.to(self.device).eval()
        self.tokenizer = tokenizer
        self.batch_size = batch_size

    @classmethod
    def from_pretrained(cls, path: str | Path, device: str | torch.device | None = None) -> PoemCritic:
        tokenizer = load_tokenizer(path)
        # fp32 whatever the stored dtype (critics are saved in bf16): CPUs without native bf16 emulate it slowly
        model = AutoModelForSequenceClassification.from_pretrained(path, local_files_only=True, dtype=torch.float32)
        return cls(model, tokenizer, device)

    @classmethod
    def beside(cls, model_dir: str | Path, device: str | torch.device | None = None) -> PoemCritic | None:
        """The critic shipped in ``model_dir/critic``, or None when that model has none."""
        path = critic_dir(model_dir)
        if not (path / "config.json").is_file():
            return None
        critic = cls.from_pretrained(path, device)
        log.info("critic: loaded %s", path)
        return critic

    @torch.no_grad()
    def logits(self, poems: Sequence[tuple[str, Sequence[str]]]) -> list[float]:
        """Log-odds "real" for each (form, lines)."""
        out: list[float] = []
        for start in range(0, len(poems), self.batch_size):
            chunk = poems[start : start + self.batch_size]
            enc = self.tokenizer([critic_text(form, lines) for form, lines in chunk], return_tensors="pt",
                                 padding=True, padding_side="right", add_special_tokens=False)
            logits = self.model(input_ids=enc["input_ids"].to(self.device),
                                attention_mask=enc["attention_mask"].to(self.device)).logits
            out += [float(x) for x in logits[:, 0].float()]
        return out


__all__ = ["CRITIC_SUBDIR", "PoemCritic", "critic_dir", "critic_text", "new_critic"]
