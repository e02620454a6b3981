"""Composer loading and device choice (worker.engine)."""

from __future__ import annotations

from pathlib import Path

import pytest

from worker.engine import ComposeArgs, DeviceError, NoopComposer, load_engine, resolve_device
from worker.settings import QueueSettings


def test_noop_composer_keeps_the_form_shape() -> None:
    engine = load_engine(QueueSettings(composer="noop"))
    poems = engine.compose_batch([ComposeArgs("江雪", form="五律"), ComposeArgs("", form="七绝", heads="春夏秋冬")])
    five, seven = (p.to_dict() for p in poems)
    assert len(five["lines"]) == 8 and {len(line) for line in five["lines"]} == {5}
    assert len(seven["lines"]) == 4 and [line[0] for line in seven["lines"]] == list("春夏秋冬")
    assert five["text"].count("，") == 4 and five["text"].endswith("。")
    assert isinstance(engine.composer, NoopComposer) and engine.composer.calls == 1


def test_device_choice() -> None:
    import torch

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
    from poetcore.errors import ModelLoadError

    with pytest.raises(ModelLoadError, match="poetcore train"):
        load_engine(QueueSettings(model_path=tmp_path / "nowhere", device="cpu"))


def test_tiny_model_loads_once_with_timing(tiny_model_dir: Path) -> None:
    engine = load_engine(QueueSettings(model_path=tiny_model_dir, device="cpu"))
    assert engine.kind == "real" and engine.device == "cpu" and engine.load_s > 0
    poem = engine.compose(ComposeArgs("秋月", n=1, seed=1)).to_dict()
    assert len(poem["lines"]) == 4 and all(len(line) == 7 for line in poem["lines"])
