"""TemperatureTopP keeps exactly the tokens HF's temperature + top-p warpers keep, and decodes alike."""

from __future__ import annotations

import pytest
import torch
from transformers import LogitsProcessorList, TemperatureLogitsWarper, TopPLogitsWarper

from poetcore.decoding.sampling import TemperatureTopP


def hf(temperature: float, top_p: float, keep: int) -> LogitsProcessorList:
    return LogitsProcessorList([TemperatureLogitsWarper(temperature), TopPLogitsWarper(top_p, min_tokens_to_keep=keep)])


@pytest.mark.parametrize(("top_p", "keep", "k"), [(0.95, 1, 256), (0.9, 2, 256), (0.95, 1, 4), (0.5, 2, 3)])
def test_the_same_tokens_as_hf(top_p: float, keep: int, k: int) -> None:
    gen = torch.Generator().manual_seed(7)
    scores = torch.randn(64, 3000, generator=gen) * 3
    scores[torch.rand(64, 3000, generator=gen) < 0.7] = float("-inf")  # a constraint mask
    scores[0, 1:] = float("-inf")  # one allowed token
    ids = torch.zeros(64, 1, dtype=torch.long)
    ours = TemperatureTopP(0.75, top_p, keep, k=k)(ids, scores.clone())
    theirs = hf(0.75, top_p, keep)(ids, scores.clone())
    assert torch.equal(torch.isfinite(ours), torch.isfinite(theirs))  # k=3, 4: rows fall back to HF's sort
    kept = torch.isfinite(ours)
    assert torch.allclose(ours[kept], theirs[kept])


def test_sampling_with_it_gives_hf_s_poems(tiny_model_dir) -> None:
    from poetcore.compose import Composer
    from poetcore.decoding.processor import PoemConstraintLogitsProcessor
    from poetcore.decoding.spec import PoemSpec
    from poetcore.prosody.forms import get_form

    composer = Composer.from_pretrained(tiny_model_dir, device="cpu")
    ids = composer.tokenizer(["<|bos|>"] * 6, return_tensors="pt", add_special_tokens=False)["input_ids"]
    outs = []
    for warpers in ([TemperatureTopP(0.75, 0.9)], []):
        proc = PoemConstraintLogitsProcessor([PoemSpec(get_form("五绝"))] * 6, composer.masks, ids.shape[1])
        torch.manual_seed(3)
        hf_knobs = {} if warpers else {"temperature": 0.75, "top_p": 0.9}
        outs.append(composer.model.generate(
            input_ids=ids, attention_mask=torch.ones_like(ids), do_sample=True, num_beams=1, top_k=0,
            max_new_tokens=proc.max_new_tokens, logits_processor=LogitsProcessorList([proc, *warpers]),
            pad_token_id=composer.masks.pad_id, eos_token_id=composer.masks.eos_id,
            **({"temperature": 1.0, "top_p": 1.0} | hf_knobs)))
    assert torch.equal(outs[0], outs[1])


def test_bad_knobs_are_refused() -> None:
    with pytest.raises(ValueError, match="temperature"):
        TemperatureTopP(0.0, 0.9)
    with pytest.raises(ValueError, match="top_p"):
        TemperatureTopP(1.0, 1.5)
