"""Constrained beam search and the line-fit rerank, on the tiny random model.

Random weights make any slip in the processor's per-beam state show as a broken 格律, so every beam
of every request is judged by the checker; the line-fit numbers are checked against the LM itself.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from support.poems import assert_regulated

from poetcore.compose import Composer
from poetcore.decoding.processor import PoemConstraintLogitsProcessor, replay
from poetcore.decoding.rerank import line_alone_logprobs, sequence_logprobs
from poetcore.decoding.spec import PoemSpec
from poetcore.model.tokenizer import format_prompt
from poetcore.prosody.forms import FORMS
from poetcore.request import ComposeRequest, Poem


@pytest.fixture(scope="module")
def beams(tiny_model_dir: Path) -> Iterator[Composer]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    composer = Composer.from_pretrained(tiny_model_dir, device="cpu")
    composer.generation_config.update(num_beams=4, do_sample=False)
    yield composer
    torch.set_num_threads(threads)


def test_every_beam_of_a_mixed_batch_keeps_the_form(beams: Composer) -> None:
    """Forms of different lengths, 藏头, a chosen rhyme and 续写 in one beam-search call: the returned
    beams are reordered many times, and each must still pass the checker."""
    requests = [
        ComposeRequest("秋月", "七绝", n=4, seed=1),
        ComposeRequest("送别", "五律", n=4, seed=1),
        ComposeRequest("", "七绝", heads="春夏秋冬", rhyme="东", n=4, seed=1),
        ComposeRequest("", "五绝", prefix=["白日依山尽"], n=4, seed=1),
    ]
    for req in requests:
        cands = beams.candidates(req)
        assert len(cands) == 4 and len({c.text for c in cands}) == 4, [c.text for c in cands]
        for poem in cands:
            assert_regulated(poem, req.form, rhyme=req.rhyme)
    out = beams.compose_batch(requests)
    assert all(isinstance(p, Poem) for p in out)
    assert [line[0] for line in out[2].lines] == list("春夏秋冬")  # type: ignore[union-attr]
    assert out[3].lines[0] == "白日依山尽"  # type: ignore[union-attr]


def test_beam_search_is_deterministic_and_its_best_beam_scores_highest(beams: Composer) -> None:
    a = beams.candidates(ComposeRequest("山居", "七绝", n=4, seed=1))
    b = beams.candidates(ComposeRequest("山居", "七绝", n=4, seed=9))  # no sampling: the seed is moot
    assert [p.text for p in a] == [p.text for p in b]
    assert [p.score for p in a] == sorted((p.score for p in a), reverse=True)


def _processor(composer: Composer, forms: list[str], k: int) -> tuple[PoemConstraintLogitsProcessor, torch.Tensor]:
    specs = [PoemSpec(FORMS[f], topic="") for f in forms]
    prompts = [format_prompt(f) for f in forms]
    enc = composer.tokenizer(prompts, return_tensors="pt", padding=True, padding_side="left",
                             add_special_tokens=False)
    proc = PoemConstraintLogitsProcessor(specs, composer.masks, prompt_length=enc["input_ids"].shape[1],
                                         num_beams=k)
    return proc, enc["input_ids"].repeat_interleave(k, 0)


def test_the_state_follows_a_reorder_of_the_beams(beams: Composer) -> None:
    proc, ids = _processor(beams, ["七绝", "五绝"], 2)
    scores = torch.zeros(4, beams.masks.vocab_size)

    def step(ids: torch.Tensor, pick: int) -> torch.Tensor:
        """Call the processor, then extend each row by its ``pick + row``-th allowed token."""
        allowed = proc(ids, scores.clone()) > float("-inf")
        return torch.cat([ids, torch.tensor([int(allowed[r].nonzero()[pick + r % 2]) for r in range(4)])[:, None]], 1)

    ids = step(ids, 0)  # two beams per spec, two different first characters
    ids = step(ids, 3)
    first, second = ids[:, -2].tolist(), ids[:, -1].tolist()
    swapped = ids[[1, 0, 3, 2]]  # beam search moved each block's beams
    ids = step(swapped, 5)
    assert proc.prev2.tolist() == [first[1], first[0], first[3], first[2]]
    assert proc.prev.tolist() == [second[1], second[0], second[3], second[2]]
    with pytest.raises(ValueError, match="extends none"):
        proc(ids.flip(0), scores.clone())  # rows taken from the other spec's block


def test_replay_gives_the_state_generation_had(beams: Composer) -> None:
    composer = copy.copy(beams)
    composer.generation_config = copy.deepcopy(beams.generation_config)
    composer.generation_config.update(num_beams=1, do_sample=True)
    proc, ids = _processor(composer, ["七绝", "七绝"], 1)
    torch.manual_seed(0)
    out = composer.model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), do_sample=True, num_beams=1,
                                  max_new_tokens=proc.max_new_tokens, logits_processor=[proc],
                                  pad_token_id=composer.masks.pad_id, eos_token_id=composer.masks.eos_id)
    again = replay(_processor(composer, ["七绝", "七绝"], 1)[0], out)
    for name in ("alive", "groups", "used", "_failed"):
        assert torch.equal(getattr(again, name), getattr(proc, name)), name


def test_sequence_logprobs_match_the_scores_of_sampling(beams: Composer) -> None:
    proc, ids = _processor(beams, ["五绝"], 1)
    mask = torch.ones_like(ids)
    torch.manual_seed(3)
    out = beams.model.generate(input_ids=ids, attention_mask=mask, do_sample=True, num_beams=1,
                               max_new_tokens=proc.max_new_tokens,
                               logits_processor=[proc], pad_token_id=beams.masks.pad_id,
                               eos_token_id=beams.masks.eos_id, return_dict_in_generate=True, output_logits=True)
    expected = beams.model.compute_transition_scores(out.sequences, out.logits, normalize_logits=True)
    got = sequence_logprobs(beams.model, out.sequences, mask)
    assert torch.allclose(got, expected.float(), atol=1e-4)
    # A line alone after the prompt: the same numbers as teacher forcing that short sequence.
    line = out.sequences[0, ids.shape[1] : ids.shape[1] + 5].tolist()
    alone = line_alone_logprobs(beams.model, [ids[0].tolist()], [line], beams.masks.pad_id)
    assert alone[0] == pytest.approx(float(got[0, :5].sum()), abs=1e-4)


def test_line_fit_reranks_by_exactly_its_weight(tiny_model_dir: Path) -> None:
    composer = Composer.from_pretrained(tiny_model_dir, device="cpu")
    req = ComposeRequest("秋月", "七绝", n=6, seed=5)
    plain = {p.text: p for p in composer.candidates(req)}
    composer.generation_config.line_fit_weight = 0.5
    fitted = composer.candidates(req)
    assert {p.text for p in fitted} == set(plain)  # the rerank changes the order, not the candidates
    for p in fitted:
        assert p.line_fit != 0.0 and plain[p.text].line_fit == 0.0
        assert p.score == pytest.approx(plain[p.text].score + 0.5 * p.line_fit, abs=2e-4)
    assert [p.score for p in fitted] == sorted((p.score for p in fitted), reverse=True)


def test_one_candidate_each_keeps_the_sampling_fast_path(beams: Composer) -> None:
    """n=1 for every request in a batch: one sampled row each, no beams (and different seeds differ)."""
    sampler = copy.copy(beams)
    sampler.generation_config = copy.deepcopy(beams.generation_config)
    sampler.generation_config.update(do_sample=True)  # beam sampling, as shipped
    texts = {sampler.compose("秋月", form="七绝", n=1, seed=s).text for s in range(3)}
    assert len(texts) == 3
    assert len(sampler.candidates(ComposeRequest("秋月", "七绝", n=1, seed=1))) == 1  # one row, not four beams
    assert len(sampler.candidates(ComposeRequest("秋月", "七绝", n=2, seed=1))) == 4  # max(num_beams, n) beams
    mixed = beams.compose_batch([ComposeRequest("秋月", "七绝", n=1, seed=1), ComposeRequest("送别", "五绝", n=3, seed=1)])
    assert all(isinstance(p, Poem) for p in mixed)  # one batch of beams serves both


def test_the_bench_measures_the_processor_under_a_beam_config(beams: Composer) -> None:
    """`poetcore bench`'s constraint overhead generates sampled rows itself, even when the model ships beams."""
    from poetcore.eval.bench import constraint_overhead

    result = constraint_overhead(beams, batch=2, repeats=1)
    assert result["batch"] == 2 and result["constrained_s"] > 0
