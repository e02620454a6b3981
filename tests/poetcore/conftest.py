"""Engine fixtures: a composer on the tiny random model (the constraints, not the model, are under test)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from poetcore.compose import Composer


@pytest.fixture(scope="module")
def composer(tiny_model_dir: Path) -> Iterator[Composer]:
    # One thread: with a second busy process on 2 cores, torch's thread pool is ~20x slower.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield Composer.from_pretrained(tiny_model_dir, device="cpu")
    torch.set_num_threads(threads)
