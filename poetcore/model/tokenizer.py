"""Char-level tokenizer and the text format the model is trained on.

Classical poems are written one character per morpheme, and the 格律 constraints act per character,
so a WordLevel vocabulary over single characters keeps every constraint a plain mask over token ids.

An example reads::

    <|bos|><|七绝|><|kw|>秋月<|kw|>思乡<|poem|>床前明月光，疑是地上霜。举头望明月，低头思故乡。<|eos|>
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers
from transformers import AutoTokenizer, PreTrainedTokenizerBase, PreTrainedTokenizerFast

PAD = "<|pad|>"
UNK = "<|unk|>"
BOS = "<|bos|>"
EOS = "<|eos|>"
KW = "<|kw|>"
POEM = "<|poem|>"
FORM_NAMES = ("五绝", "七绝", "五律", "七律")
FORM_TOKENS = tuple(f"<|{name}|>" for name in FORM_NAMES)
SPECIAL_TOKENS = (PAD, UNK, BOS, EOS, KW, POEM, *FORM_TOKENS)
COMMA = "，"
PERIOD = "。"
PUNCTUATION = (COMMA, PERIOD)


CI_FORM_PREFIX = "词·"
"""A 词's form name is ``词·<词牌>`` (``词·浣溪沙``); its token is ``<|词·浣溪沙|>``."""


def ci_form(cipai: str) -> str:
    """The form name of a 词 written to ``cipai``."""
    return CI_FORM_PREFIX + cipai


def form_token(form: str) -> str:
    """The conditioning token for a form name such as ``七绝`` or ``词·浣溪沙``."""
    if form not in FORM_NAMES and not (form.startswith(CI_FORM_PREFIX) and len(form) > len(CI_FORM_PREFIX)):
        raise ValueError(f"no form token for {form!r}; known: {', '.join(FORM_NAMES)} and 词·<词牌>")
    return f"<|{form}|>"


def format_prompt(form: str, keywords: Sequence[str] = ()) -> str:
    """Everything before the first poem character: form and keyword conditioning."""
    kws = "".join(f"{KW}{k}" for k in keywords if k)
    return f"{BOS}{form_token(form)}{kws}{POEM}"


def format_body(lines: Sequence[str], marks: Sequence[str] | None = None) -> str:
    """Poem lines joined with their punctuation: by default the couplet's (， after odd lines, 。 after
    even ones); a 词 brings its own ``marks``, one per line."""
    if marks is None:
        marks = [COMMA if i % 2 == 0 else PERIOD for i in range(len(lines))]
    if len(marks) != len(lines):
        raise ValueError(f"{len(lines)} lines but {len(marks)} marks")
    return "".join(line + mark for line, mark in zip(lines, marks, strict=True))


def add_form_tokens(tokenizer: PreTrainedTokenizerBase, forms: Iterable[str]) -> int:
    """Give each form (词·<词牌>) its token; returns how many were new (resize the embeddings then)."""
    new = [form_token(f) for f in forms]
    return int(tokenizer.add_special_tokens({"additional_special_tokens": new}, replace_extra_special_tokens=False))


def build_tokenizer(texts: Iterable[str], min_count: int = 1, forms: Iterable[str] = ()) -> PreTrainedTokenizerFast:
    """Build the char vocabulary from training texts (poem lines and keywords).

    Characters seen fewer than ``min_count`` times map to UNK: the model cannot learn them anyway,
    and a smaller softmax is faster on CPU. ``forms`` adds 词·<词牌> form tokens.
    """
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(text)
    chars = sorted(ch for ch, c in counts.items() if c >= min_count and not ch.isspace())
    vocab: dict[str, int] = {}
    for tok in (*SPECIAL_TOKENS, *PUNCTUATION, *chars):
        vocab.setdefault(tok, len(vocab))
    tokenizer = _wrap(vocab)
    add_form_tokens(tokenizer, forms)
    return tokenizer


def _wrap(vocab: dict[str, int]) -> PreTrainedTokenizerFast:
    core = Tokenizer(models.WordLevel(vocab=vocab, unk_token=UNK))
    # Every non-space character is its own token; special tokens are matched before this runs.
    core.pre_tokenizer = pre_tokenizers.Split(Regex(r"\S"), behavior="isolated")
    core.decoder = decoders.Fuse()
    tok = PreTrainedTokenizerFast(
        tokenizer_object=core,
        bos_token=BOS,
        eos_token=EOS,
        unk_token=UNK,
        pad_token=PAD,
        additional_special_tokens=[KW, POEM, *FORM_TOKENS],
        model_max_length=256,
        clean_up_tokenization_spaces=False,
        padding_side="left",  # generation pads prompts on the left
    )
    return tok


def load_tokenizer(path: str | Path) -> PreTrainedTokenizerBase:
    """Load a tokenizer saved with ``save_pretrained``: the one loader, never the network."""
    tokenizer: PreTrainedTokenizerBase = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
    return tokenizer


def ensure_special_tokens(tokenizer: PreTrainedTokenizerFast) -> int:
    """Add our conditioning tokens to a foreign tokenizer (fine-tuning another LM); returns how many were new."""
    added = tokenizer.add_special_tokens(
        {"additional_special_tokens": [KW, POEM, *FORM_TOKENS]}, replace_extra_special_tokens=False
    )
    if tokenizer.pad_token is None:
        added += tokenizer.add_special_tokens({"pad_token": PAD})
    if tokenizer.bos_token is None:
        added += tokenizer.add_special_tokens({"bos_token": BOS})
    if tokenizer.eos_token is None:
        added += tokenizer.add_special_tokens({"eos_token": EOS})
    return int(added)
