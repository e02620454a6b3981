"""Training on the shipped fixture corpus: loss goes down, checkpoints resume, models round-trip."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from transformers import AutoModelForCausalLM

from poetcore.data.corpus import load_split
from poetcore.eval.baseline import TrigramLM, trigram_bpc
from poetcore.model.modeling import PRESETS, get_preset, new_model
from poetcore.model.tokenizer import load_tokenizer
from poetcore.model.train import (
    PromptSampler,
    batches,
    build_vocab_tokenizer,
    collate,
    encode_poems,
    evaluate_bpc,
    train,
)

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "corpus"


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("run")
    train(FIXTURE, out, PRESETS["tiny"], max_steps=40, show_progress=False, max_valid=64)
    return out


def test_fixture_has_all_forms() -> None:
    poems = load_split(FIXTURE, "train")
    assert {p["form"] for p in poems} == {"五绝", "七绝", "五律", "七律"}
    assert load_split(FIXTURE, "valid")


def test_tiny_training_reduces_validation_bpc(trained: Path) -> None:
    history = [json.loads(line) for line in (trained / "metrics.jsonl").read_text().splitlines()]
    assert len(history) >= 2
    assert history[-1]["valid_bpc"] < history[0]["valid_bpc"]
    summary = json.loads((trained / "summary.json").read_text())
    assert summary["steps"] == 40 and summary["best_valid_bpc"] == min(h["valid_bpc"] for h in history)


def test_untrained_bpc_is_near_uniform_and_training_beats_it(trained: Path) -> None:
    tok = load_tokenizer(trained / "final")
    valid = encode_poems(load_split(FIXTURE, "valid")[:64], tok)
    fresh = new_model(PRESETS["tiny"].size, tok, seed=1)
    untrained = evaluate_bpc(fresh, tok, valid)
    uniform = torch.log2(torch.tensor(float(len(tok)))).item()
    assert abs(untrained - uniform) < 1.5
    model = AutoModelForCausalLM.from_pretrained(trained / "final")
    assert evaluate_bpc(model, tok, valid) < untrained


def test_final_model_round_trips_through_save_pretrained(trained: Path, tmp_path: Path) -> None:
    model = AutoModelForCausalLM.from_pretrained(trained / "final")
    assert (trained / "final" / "model.safetensors").exists()
    model.save_pretrained(tmp_path)
    again = AutoModelForCausalLM.from_pretrained(tmp_path)
    ids = torch.tensor([[2, 7, 5, 20, 21]])
    with torch.no_grad():
        assert torch.allclose(model(ids).logits, again(ids).logits)


def test_resume_continues_from_checkpoint(trained: Path, tmp_path: Path) -> None:
    import shutil

    run = tmp_path / "run"
    shutil.copytree(trained, run)
    before = json.loads((run / "checkpoint" / "trainer_state.json").read_text())["step"]
    summary = train(FIXTURE, run, PRESETS["tiny"], resume=True, max_steps=before + 10, show_progress=False, max_valid=64)
    assert summary["steps"] == before + 10
    lines = (run / "metrics.jsonl").read_text().splitlines()
    assert json.loads(lines[-1])["step"] == before + 10


def test_init_from_fine_tunes_an_existing_model(trained: Path, tmp_path: Path) -> None:
    summary = train(
        FIXTURE, tmp_path, PRESETS["tiny"], init_from=trained / "final", max_steps=5, show_progress=False, max_valid=32
    )
    assert summary["init_from"] == str(trained / "final")
    assert (tmp_path / "final" / "config.json").exists()


def test_collate_masks_prompt_and_padding() -> None:
    batch = collate([([1, 2], [5, 6, 7]), ([1], [8])], pad_id=0)
    assert batch["input_ids"].tolist() == [[1, 2, 5, 6, 7], [1, 8, 0, 0, 0]]
    assert batch["labels"].tolist() == [[-100, -100, 5, 6, 7], [-100, 8, -100, -100, -100]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1, 1, 1], [1, 1, 0, 0, 0]]


def test_batches_group_one_form_each() -> None:
    import random

    poems = load_split(FIXTURE, "train")
    tok = build_vocab_tokenizer(poems, min_count=1)
    data = encode_poems(poems, tok)
    seen = 0
    for chunk in batches(data, 16, random.Random(0)):
        assert len({ex.form for ex in chunk}) == 1
        seen += len(chunk)
    assert seen == len(data)
    sampler = PromptSampler(tok, random.Random(0))
    kws = [sampler.keywords(ex) for ex in data[:200]]
    assert any(k == () for k in kws) and any(k for k in kws)
    body_chars = set("".join(data[0].lines))
    assert all(set("".join(k)) <= body_chars | set("".join(data[0].keywords)) for k in [sampler.keywords(data[0])])


def test_trigram_baseline_is_a_proper_distribution() -> None:
    lm = TrigramLM(vocab_size=5).fit([[0, 1, 2, 1, 2], [1, 2, 3]])
    for a, b in [(-1, -1), (1, 2), (4, 4)]:
        assert sum(lm.prob(a, b, c) for c in range(5)) == pytest.approx(1.0)
    assert lm.prob(1, 2, 1) > lm.prob(1, 2, 4)
    assert trigram_bpc([[0, 1, 2] * 20], [[0, 1, 2] * 3], 5) < trigram_bpc([[0, 1, 2] * 20], [[4, 3, 4] * 3], 5)
    with pytest.raises(ValueError, match="discount"):
        TrigramLM(5, discount=1.5)


def test_unknown_preset_lists_choices() -> None:
    with pytest.raises(ValueError, match="cpu-small"):
        get_preset("huge")


def test_shipping_an_older_run_writes_the_decoding_defaults(trained: Path, tmp_path: Path) -> None:
    """A model saved before generation_config.json held our defaults would decode greedily."""
    import shutil

    from poetcore.model.card import ship_model
    from poetcore.model.modeling import DECODING_DEFAULTS, SAMPLING_DEFAULTS

    run = tmp_path / "run"
    shutil.copytree(trained, run)
    (run / "final" / "generation_config.json").write_text(json.dumps({"bos_token_id": 2, "eos_token_id": 3}))
    dest = ship_model(run, tmp_path / "shipped")
    saved = json.loads((dest / "generation_config.json").read_text())
    assert {k: saved[k] for k in SAMPLING_DEFAULTS} == SAMPLING_DEFAULTS
    assert {k: saved[k] for k in DECODING_DEFAULTS} == DECODING_DEFAULTS
    assert "precision" in (dest / "README.md").read_text()


def test_shipping_never_leaves_the_previous_models_critic_beside_a_new_lm(trained: Path, tmp_path: Path) -> None:
    """A critic judges one LM's samples: shipping a run replaces it with the run's own, or removes it."""
    import shutil

    from poetcore.model.card import ship_model

    dest = tmp_path / "shipped"
    (dest / "critic").mkdir(parents=True)
    (dest / "critic" / "config.json").write_text("{}")  # the previous model's critic
    run = tmp_path / "run"
    shutil.copytree(trained, run)
    ship_model(run, dest)
    assert not (dest / "critic").exists()
    (run / "final" / "critic").mkdir()
    (run / "final" / "critic" / "config.json").write_text('{"mine": 1}')
    ship_model(run, dest)
    assert json.loads((dest / "critic" / "config.json").read_text()) == {"mine": 1}


def test_precision_auto_asks_the_hardware() -> None:
    from poetcore.model.train import cpu_has_fast_bf16, resolve_bf16

    assert resolve_bf16("fp32", torch.device("cpu")) is False
    assert resolve_bf16("bf16", torch.device("cpu")) is True
    assert resolve_bf16("auto", torch.device("cpu")) is cpu_has_fast_bf16()
    with pytest.raises(ValueError, match="auto, bf16 or fp32"):
        resolve_bf16("fp16", torch.device("cpu"))


def test_training_includes_the_ci_under_their_cipai_tokens(trained: Path) -> None:
    summary = json.loads((trained / "summary.json").read_text())
    fixture_ci = load_split(FIXTURE, "ci_train")
    tok = load_tokenizer(trained / "final")
    # 词 with a character outside the vocabulary (seen once in this tiny corpus) are left out.
    usable = [ex for ex in encode_poems(fixture_ci, tok) if tok.unk_token_id not in ex.body]
    assert summary["train_ci"] == len(usable) > 0
    assert summary["train_poems"] == len(load_split(FIXTURE, "train")) + len(usable)
    for cipai in {p["cipai"] for p in fixture_ci}:
        ids = tok(f"<|词·{cipai}|>", add_special_tokens=False)["input_ids"]
        assert len(ids) == 1 and ids[0] != tok.unk_token_id


def test_ci_validation_bpc_is_logged_beside_the_shi_bpc(tmp_path: Path) -> None:
    import shutil

    from poetcore.data.corpus import write_split

    corpus = tmp_path / "corpus"
    shutil.copytree(FIXTURE, corpus)
    from collections import Counter

    ci = load_split(FIXTURE, "ci_train")
    seen = Counter("".join(line for p in [*load_split(FIXTURE, "train"), *ci] for line in p["lines"]))
    known = [p for p in ci if all(seen[ch] >= 2 for ch in "".join(p["lines"]))]  # in the vocabulary (min_count 2)
    write_split(corpus, "ci_valid", known)
    summary = train(corpus, tmp_path / "run", PRESETS["tiny"], max_steps=4, show_progress=False, max_valid=16)
    assert summary["valid_ci"] > 0
    history = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert history and all(h["valid_ci_bpc"] > 0 and h["valid_bpc"] > 0 for h in history)


def test_no_ci_trains_on_shi_only(tmp_path: Path) -> None:
    summary = train(FIXTURE, tmp_path, PRESETS["tiny"], max_steps=2, show_progress=False, max_valid=16, ci=False)
    assert summary["train_ci"] == 0 and summary["valid_ci"] == 0
    assert "<|词·浣溪沙|>" not in load_tokenizer(tmp_path / "final").get_vocab()


def test_fine_tuning_a_shi_model_grows_it_the_cipai_tokens(tmp_path: Path) -> None:
    shi = tmp_path / "shi"
    train(FIXTURE, shi, PRESETS["tiny"], max_steps=2, show_progress=False, max_valid=16, ci=False)
    before = len(load_tokenizer(shi / "final"))
    summary = train(FIXTURE, tmp_path / "ci", PRESETS["tiny"], init_from=shi / "final", max_steps=2,
                    show_progress=False, max_valid=16)
    assert summary["vocab_size"] == before + 2  # 浣溪沙 and 菩萨蛮
    model = AutoModelForCausalLM.from_pretrained(tmp_path / "ci" / "final")
    assert model.get_input_embeddings().weight.shape[0] == before + 2
