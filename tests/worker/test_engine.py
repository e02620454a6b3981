"""Composer loading and device choice (worker.engine)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from support.settings import make_worker_config

from poetcore.errors import ModelLoadError
from poetcore.request import ComposeRequest, Poem
from worker.engine import DeviceError, NoopComposer, load_engine, resolve_device


def _engine(**overrides: object):
    config = make_worker_config(**overrides)
    return load_engine(config.engine, config.worker)


def test_noop_composer_keeps_the_form_shape() -> None:
    engine = _engine(composer="noop")
    poems = engine.compose_batch([ComposeRequest("江雪", form="五律"), ComposeRequest("", form="七绝", heads="春夏秋冬")])
    assert all(isinstance(p, Poem) for p in poems)
    five, seven = (p.to_dict() for p in poems)  # type: ignore[union-attr]
    assert len(five["lines"]) == 8 and {len(line) for line in five["lines"]} == {5}
    assert len(seven["lines"]) == 4 and [line[0] for line in seven["lines"]] == list("春夏秋冬")
    assert five["text"].count("，") == 4 and five["text"].endswith("。")
    assert isinstance(engine.composer, NoopComposer) and engine.composer.calls == 1


def test_device_choice() -> None:
    assert resolve_device("cpu") == "cpu"
    with pytest.raises(ValueError, match="auto, cpu or cuda"):
        resolve_device("tpu")
    if torch.cuda.is_available():
        assert resolve_device("auto") == resolve_device("cuda") == "cuda"
    else:
        assert resolve_device("auto") == "cpu"
        with pytest.raises(DeviceError, match="--device cpu"):
            resolve_device("cuda")


def test_missing_model_fails_fast_with_advice(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match="poetcore train"):
        _engine(model=tmp_path / "nowhere", device="cpu")


def test_tiny_model_loads_once_with_timing(tiny_model_dir: Path) -> None:
    engine = _engine(model=tiny_model_dir, device="cpu")
    assert engine.kind == "real" and engine.device == "cpu" and engine.load_s > 0
    poem = engine.compose_batch([ComposeRequest("秋月", n=1, seed=1)])[0]
    assert isinstance(poem, Poem)
    assert len(poem.lines) == 4 and all(len(line) == 7 for line in poem.lines)
