"""Engine fixtures: a composer on the tiny random model (the constraints, not the model, are under test)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from poetcore.compose import Composer


@pytest.fixture(scope="module")
def one_torch_thread() -> Iterator[None]:
    """One torch thread for a module: with a second busy process on 2 cores, torch's thread pool makes
    generate() ~20x slower (threads stall at barriers)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def composer(tiny_model_dir: Path, one_torch_thread: None) -> Composer:
    return Composer.from_pretrained(tiny_model_dir, device="cpu")
