"""Preference training (poetcore.tuning.preference): DPO moves the LM toward the real poem of each pair."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import pytest
import torch
from transformers import AutoModelForCausalLM
from typer.testing import CliRunner

from poetcore.cli.main import app
from poetcore.model.tokenizer import load_tokenizer
from poetcore.tuning.critic_train import CriticExample, real_examples, save_examples
from poetcore.tuning.preference import _body_logps, dpo_loss, encode_pairs, train_preference

pytestmark = pytest.mark.usefixtures("one_torch_thread")

FIXTURE_CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "corpus"


def _pairs() -> list[CriticExample]:
    real = real_examples(FIXTURE_CORPUS, "train", 32, random.Random(1), forms=("五绝",))
    return [CriticExample("五绝", ["春风春风起"] * 4, 0, r.topic, r.lines) for r in real]


def test_dpo_loss_is_the_logistic_loss_of_the_reward_margin() -> None:
    loss, right = dpo_loss(torch.tensor([-10.0]), torch.tensor([-12.0]), torch.tensor([-11.0]),
                           torch.tensor([-11.0]), beta=0.5)
    # margin = 0.5 * ((-10 + 11) - (-12 + 11)) = 1
    assert float(loss[0]) == pytest.approx(math.log1p(math.exp(-1.0)))
    assert float(right[0]) == 1.0


def test_pairs_are_encoded_with_the_composer_prompt_and_eos(tiny_model_dir: Path) -> None:
    tok = load_tokenizer(tiny_model_dir)
    pairs = [*_pairs()[:3], CriticExample("五绝", ["春风春风起"] * 4, 1, "x", ["a"])]  # a real one: no pair
    encoded = encode_pairs(tok, pairs)
    assert len(encoded) == 3
    prompt, chosen, rejected = encoded[0]
    assert tok.decode(prompt).replace(" ", "").startswith("<|bos|><|五绝|><|kw|>")
    assert chosen[-1] == rejected[-1] == tok.eos_token_id
    assert len(chosen) == len(rejected) == 5 * 4 + 4 + 1  # 4 lines, 4 marks, EOS


def test_training_widens_the_gap_between_chosen_and_rejected(tiny_model_dir: Path, tmp_path: Path) -> None:
    pairs = _pairs()
    report = train_preference(tiny_model_dir, pairs, FIXTURE_CORPUS, tmp_path, lr=1e-3, epochs=2, batch_size=8,
                              precision="fp32", max_valid=20)
    tok = load_tokenizer(tiny_model_dir)
    data = encode_pairs(tok, pairs)
    rows = [(p, c) for p, c, _ in data] + [(p, r) for p, _, r in data]

    def gap(path: Path) -> float:
        model = AutoModelForCausalLM.from_pretrained(path, local_files_only=True).eval()
        with torch.no_grad():
            logp, _ = _body_logps(model, rows, tok.pad_token_id, bf16=False)
        return float((logp[: len(data)] - logp[len(data):]).mean())

    assert gap(tmp_path / "final") > gap(tiny_model_dir) + 1.0
    assert report.pairs == len(data) and report.steps == 2 * math.ceil(len(data) / 8)
    assert math.isfinite(report.valid_bpc_before) and math.isfinite(report.valid_bpc_after)
    summary = json.loads((tmp_path / "preference_summary.json").read_text())
    assert summary["steps"] == report.steps and (tmp_path / "final" / "generation_config.json").is_file()
    # The run ships like a training run: its bpc in the summary, its DPO line on the model card.
    from poetcore.model.card import ship_model

    assert json.loads((tmp_path / "summary.json").read_text())["best_valid_bpc"] == report.valid_bpc_after
    card = (ship_model(tmp_path, tmp_path / "shipped") / "README.md").read_text()
    assert f"model {report.valid_bpc_after:.3f}**" in card and "Preference training: DPO (beta 0.1" in card


def test_cli_prefer_needs_its_pairs(tiny_model_dir: Path, tmp_path: Path) -> None:
    missing = CliRunner().invoke(app, ["tune", "prefer", "--pairs", str(tmp_path / "none.jsonl.gz"),
                                       "--data", str(FIXTURE_CORPUS)])
    assert missing.exit_code == 2 and "pairs.jsonl.gz" in missing.output
    save_examples(tmp_path / "pairs.jsonl.gz", _pairs()[:8])
    done = CliRunner().invoke(app, ["tune", "prefer", "--pairs", str(tmp_path / "pairs.jsonl.gz"), "--model",
                                    str(tiny_model_dir), "--data", str(FIXTURE_CORPUS), "--out", str(tmp_path / "run")])
    assert done.exit_code == 0, done.output
    assert (tmp_path / "run" / "final" / "model.safetensors").is_file()
