"""No generated line equals a corpus line: the hash set, and the decoder's mask at each line's end."""

from __future__ import annotations

from pathlib import Path

import torch

from poetcore.compose import Composer
from poetcore.decoding.processor import PoemConstraintLogitsProcessor
from poetcore.decoding.spec import PoemSpec
from poetcore.lexicon.copyguard import HASH_BASE, HASH_MOD, CorpusLines, line_hash
from poetcore.model.tokenizer import format_prompt
from poetcore.prosody.forms import FORMS
from poetcore.request import ComposeRequest


def test_the_set_holds_poem_lines_and_survives_a_round_trip(tmp_path: Path) -> None:
    guard = CorpusLines.build(["白日依山尽", "黄河入海流", "欲穷千里目", "春眠", "两个黄鹂鸣翠柳"])
    assert len(guard) == 4  # only 5- and 7-character lines are poem lines
    assert "白日依山尽" in guard and "两个黄鹂鸣翠柳" in guard
    assert "白日依山好" not in guard and "春眠" not in guard
    guard.save(tmp_path / "lines.bin")
    assert list(CorpusLines.load(tmp_path / "lines.bin").hashes) == list(guard.hashes)
    h = 0
    for ch in "黄河入海流":  # the decoder's update, in int64 tensors
        h = int((torch.tensor(h) * HASH_BASE + ord(ch)) % HASH_MOD)
    assert h == line_hash("黄河入海流")


def test_the_shipped_set_covers_the_corpus() -> None:
    guard = CorpusLines.default()
    assert len(guard) > 1_000_000
    assert all(line in guard for line in ("床前明月光", "春风不度玉门关", "白日依山尽"))
    assert "床前明月暗" not in guard


def _allowed_after(composer: Composer, chars: str, guard: CorpusLines | None) -> torch.Tensor:
    """Feed ``chars`` as the first characters of a 五绝; the allowed tokens at the next step."""
    ids = composer.tokenizer([format_prompt("五绝")], return_tensors="pt", add_special_tokens=False)["input_ids"]
    proc = PoemConstraintLogitsProcessor([PoemSpec(FORMS["五绝"])], composer.masks, prompt_length=ids.shape[1],
                                         copy_guard=guard)
    scores = torch.zeros(1, composer.masks.vocab_size)
    for ch in chars:
        allowed = proc(ids, scores.clone()) > float("-inf")
        tok = composer.masks.id_of[ch]
        assert bool(allowed[0, tok]), ch
        ids = torch.cat([ids, torch.tensor([[tok]])], 1)
    return proc(ids, scores.clone()) > float("-inf")


def test_the_last_character_that_would_copy_a_line_is_masked(composer: Composer) -> None:
    guard = CorpusLines.build(["白日依山尽", "白日依山远"])
    free = _allowed_after(composer, "白日依山", None)
    guarded = _allowed_after(composer, "白日依山", guard)
    blocked = {composer.masks.char_of[int(i)] for i in (free & ~guarded)[0].nonzero()}
    assert blocked == {"尽", "远"}
    # Not at other positions: the 4th character of the line is free to be anything the chart allows.
    assert torch.equal(_allowed_after(composer, "白日依", None), _allowed_after(composer, "白日依", guard))


def test_a_users_own_corpus_line_is_kept(composer: Composer) -> None:
    poem = composer.compose_batch([ComposeRequest("", "五绝", prefix=["白日依山尽"], n=2, seed=1)])[0]
    assert poem.lines[0] == "白日依山尽"  # type: ignore[union-attr]
    assert not any(line in CorpusLines.default() for line in poem.lines[1:])  # type: ignore[union-attr]
