"""Char tokenizer: round-trips, special tokens, save/load."""

from __future__ import annotations

import pytest

from poetcore.model.tokenizer import (
    BOS,
    EOS,
    FORM_TOKENS,
    KW,
    POEM,
    build_tokenizer,
    ensure_special_tokens,
    form_token,
    format_body,
    format_prompt,
    load_tokenizer,
)

LINES = ["床前明月光", "疑是地上霜", "举头望明月", "低头思故乡"]


@pytest.fixture(scope="module")
def tok():
    return build_tokenizer(["".join(LINES) + "秋月"])


def test_example_layout() -> None:
    text = format_prompt("五绝", ["秋月"]) + format_body(LINES) + EOS
    assert text == f"{BOS}<|五绝|>{KW}秋月{POEM}床前明月光，疑是地上霜。举头望明月，低头思故乡。{EOS}"
    assert format_prompt("七律") == f"{BOS}<|七律|>{POEM}"
    assert format_body(["一二三四五", "六七八九十"]) == "一二三四五，六七八九十。"


def test_each_char_is_one_token_and_round_trips(tok) -> None:
    text = format_prompt("五绝", ["秋月"]) + format_body(LINES) + EOS
    ids = tok(text, add_special_tokens=False)["input_ids"]
    # 1 bos + 1 form + 1 kw + 2 + 1 poem + 20 chars + 4 punct + 1 eos
    assert len(ids) == 31
    assert tok.decode(ids) == text
    assert tok.decode(ids, skip_special_tokens=True) == "秋月" + format_body(LINES)
    assert tok.convert_ids_to_tokens(ids[:3]) == [BOS, "<|五绝|>", KW]


def test_unknown_chars_map_to_unk(tok) -> None:
    ids = tok("鑫", add_special_tokens=False)["input_ids"]
    assert ids == [tok.unk_token_id]


def test_min_count_drops_rare_chars() -> None:
    t = build_tokenizer(["春春春秋"], min_count=2)
    vocab = t.get_vocab()
    assert "春" in vocab and "秋" not in vocab
    assert all(ft in vocab for ft in FORM_TOKENS)


def test_save_and_load_round_trip(tok, tmp_path) -> None:
    tok.save_pretrained(tmp_path)
    again = load_tokenizer(tmp_path)
    text = format_prompt("七绝") + format_body([*LINES]) + EOS
    assert again(text, add_special_tokens=False)["input_ids"] == tok(text, add_special_tokens=False)["input_ids"]
    assert again.padding_side == "left"
    assert again.pad_token_id == tok.pad_token_id and again.eos_token_id == tok.eos_token_id


def test_unknown_form_token_is_an_error() -> None:
    with pytest.raises(ValueError, match="no form token"):
        form_token("词")


def test_ensure_special_tokens_on_foreign_tokenizer() -> None:
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    core = Tokenizer(models.WordLevel(vocab={"[UNK]": 0, "春": 1, "，": 2, "。": 3}, unk_token="[UNK]"))
    core.pre_tokenizer = pre_tokenizers.Whitespace()
    foreign = PreTrainedTokenizerFast(tokenizer_object=core, unk_token="[UNK]")
    added = ensure_special_tokens(foreign)
    assert added >= len(FORM_TOKENS) + 2
    assert foreign.convert_tokens_to_ids(POEM) != foreign.unk_token_id
    assert foreign.pad_token is not None and foreign.eos_token is not None
