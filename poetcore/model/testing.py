"""Small real models for tests and demos of the plumbing (not of poem quality).

A tiny randomly initialised Llama with the real char vocabulary exercises every code path:
tokenizer, ``generate`` with the 格律 constraints, the worker, the bots. Constraints guarantee
the form, so even random weights produce checkable poems.
"""

from __future__ import annotations

from pathlib import Path

from poetcore.model.modeling import PRESETS, default_model_dir, new_model
from poetcore.model.tokenizer import build_tokenizer, load_tokenizer
from poetcore.prosody.rhymes import RhymeTable


def tiny_tokenizer():
    """The shipped tokenizer when present, else one over every 平水韵 character."""
    shipped = default_model_dir()
    if (shipped / "tokenizer.json").exists():
        return load_tokenizer(shipped)
    return build_tokenizer(["".join(sorted(RhymeTable.default().chars()))])


def make_tiny_model(path: str | Path, seed: int = 0) -> Path:
    """Save a tiny random model plus tokenizer under ``path`` (loadable with ``from_pretrained``)."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    tok = tiny_tokenizer()
    model = new_model(PRESETS["tiny"].size, tok, seed=seed)
    model.save_pretrained(path)
    tok.save_pretrained(path)
    return path
