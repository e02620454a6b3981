"""The critic (poetcore.model.critic, poetcore.tuning.critic_train): trained from the LM, loaded beside
it, and its log-odds added to each candidate's rerank score."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from poetcore.cli.main import app
from poetcore.compose import Composer
from poetcore.model.critic import CRITIC_SUBDIR, PoemCritic, critic_text
from poetcore.request import ComposeRequest
from poetcore.tuning.critic_train import (
    PAIRS_FILE,
    CriticExample,
    fit_critic,
    load_examples,
    real_examples,
    roc_auc,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")

FIXTURE_CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "corpus"


def test_auc_is_the_chance_a_positive_outscores_a_negative() -> None:
    assert roc_auc([0.9, 0.8, 0.1, 0.2], [1, 1, 0, 0]) == 1.0
    assert roc_auc([0.1, 0.2, 0.9, 0.8], [1, 1, 0, 0]) == 0.0
    assert roc_auc([0.5, 0.5], [1, 0]) == 0.5  # a tie counts half
    # positives 0.8, 0.4; negatives 0.6, 0.2: pairs won 0.8>0.6, 0.8>0.2, 0.4>0.2 -> 3 of 4
    assert roc_auc([0.8, 0.4, 0.6, 0.2], [1, 1, 0, 0]) == 0.75
    with pytest.raises(ValueError, match="positive and one negative"):
        roc_auc([0.1, 0.2], [1, 1])


def test_the_critic_reads_form_and_text_but_not_the_topic() -> None:
    text = critic_text("七绝", ["白日依山尽", "黄河入海流"])
    assert text.startswith("<|bos|><|七绝|><|poem|>白日依山尽，黄河入海流。") and text.endswith("<|eos|>")
    assert "<|kw|>" not in text


@pytest.fixture(scope="module")
def critic_dir(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A critic fitted on a trivially separable set: real poems are the fixture's, ours repeat one line."""
    import random

    real = real_examples(FIXTURE_CORPUS, "train", 24, random.Random(0), forms=("五绝",))
    ours = [CriticExample("五绝", ["春风春风起"] * 4, 0) for _ in real]
    out = tmp_path_factory.mktemp("critic")
    fit_critic(tiny_model_dir, [*real, *ours], [*real[:8], *ours[:8]], out, epochs=3, lr=3e-3, precision="fp32")
    return out


def test_a_fitted_critic_is_saved_loadable_and_separates_what_it_learned(critic_dir: Path) -> None:
    critic = PoemCritic.from_pretrained(critic_dir)
    assert (critic_dir / "config.json").is_file() and (critic_dir / "tokenizer.json").is_file()
    real = real_examples(FIXTURE_CORPUS, "train", 8, __import__("random").Random(0), forms=("五绝",))
    logits = critic.logits([(e.form, e.lines) for e in real] + [("五绝", ["春风春风起"] * 4)])
    assert len(logits) == 9 and all(isinstance(x, float) for x in logits)
    assert min(logits[:8]) > logits[8]  # every real poem above the repeated line it was trained against


def test_the_composer_loads_the_critic_beside_its_model_and_adds_its_logit(
    tiny_model_dir: Path, critic_dir: Path, tmp_path: Path
) -> None:
    model = tmp_path / "model"
    shutil.copytree(tiny_model_dir, model)
    config = json.loads((model / "generation_config.json").read_text())
    (model / "generation_config.json").write_text(json.dumps({**config, "critic_weight": 0.5, "num_beams": 1}))
    assert Composer.from_pretrained(model, device="cpu").critic is None  # a weight but no critic: off
    shutil.copytree(critic_dir, model / CRITIC_SUBDIR)
    composer = Composer.from_pretrained(model, device="cpu")
    assert composer.critic is not None and composer.critic_weight == 0.5
    cands = composer.candidates(ComposeRequest("秋月", "五绝", n=6, seed=3))
    assert len(cands) > 1 and all(c.critic != 0.0 for c in cands)
    assert [c.score for c in cands] == sorted((c.score for c in cands), reverse=True)
    plain = Composer.from_pretrained(tiny_model_dir, device="cpu")
    plain.generation_config.num_beams = 1
    before = {tuple(c.lines): c.score for c in plain.candidates(ComposeRequest("秋月", "五绝", n=6, seed=3))}
    for c in cands:  # the same samples, each score moved by exactly weight x logit
        assert c.score == pytest.approx(before[tuple(c.lines)] + 0.5 * c.critic, abs=2e-4)


def test_cli_trains_a_critic_with_a_card(tiny_model_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "critic"
    done = CliRunner().invoke(app, ["tune", "critic", "--model", str(tiny_model_dir), "--data", str(FIXTURE_CORPUS),
                                    "--out", str(out), "--negatives", "16", "--hard", "4", "--heldout", "10",
                                    "--epochs", "1"])
    assert done.exit_code == 0, done.output
    summary = json.loads((out / "critic_summary.json").read_text())
    assert summary["train_ours"] == summary["train_real"] == 20 and summary["hard_negatives"] == 4
    assert summary["heldout_ours"] == summary["heldout_real"] == 10 and 0.0 <= summary["heldout_auc"] <= 1.0
    pairs = load_examples(out / PAIRS_FILE)  # each poem of ours beside the real poem it answered
    assert len(pairs) == 20 and all(p.label == 0 and p.pair and len(p.pair) == len(p.lines) for p in pairs)
    assert "held-out AUC" in (out / "README.md").read_text()
    missing = CliRunner().invoke(app, ["tune", "critic", "--data", str(tmp_path / "nowhere")])
    assert missing.exit_code == 2 and "poetcore data prepare" in missing.output
