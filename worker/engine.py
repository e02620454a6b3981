"""Loads the composer once per process and picks the device.

torch and ``poetcore.compose`` are the heavy imports: they stay inside `load_engine` and
`resolve_device`, so a worker that is only asked for ``--help`` (or a noop benchmark) starts fast.

One worker process drives one device. With several GPUs run one process per GPU, each with its
own ``CUDA_VISIBLE_DEVICES=<i>``; inside the process that GPU is ``cuda`` (index 0).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

from poetcore.errors import ModelLoadError, PoetcoreInputError
from poetcore.request import ComposeRequest, Poem
from poetcore.settings import EngineSettings
from worker.contract.metrics import MODEL_LOAD
from worker.settings import WorkerSettings

log = logging.getLogger(__name__)


@dataclass
class NoopComposer:
    """Returns the topic's characters laid out in the form's shape, after ``delay_s``.

    Only for measuring the queue itself (``POETCORE_COMPOSER=noop``); never a real answer.
    """

    delay_s: float = 0.0
    calls: int = field(default=0, init=False)

    def compose_batch(self, requests: Sequence[ComposeRequest]) -> list[Poem | PoetcoreInputError]:
        self.calls += 1
        if self.delay_s:
            time.sleep(self.delay_s)
        return [self._shape(r) for r in requests]

    @staticmethod
    def _shape(req: ComposeRequest) -> Poem:
        width = 5 if str(req.form).startswith("五") else 7
        rows = 8 if str(req.form).endswith("律") else 2 if str(req.form).endswith("联") else 4
        heads = "".join(req.heads or ())
        source = heads + (req.topic or "") or "诗"
        lines = [(source[i % len(source)] + source * width)[:width] for i in range(rows)]
        return Poem(lines=lines, form=req.form, rhyme_group="", title=req.topic or heads, topic=req.topic, score=0.0)


class BatchComposer(Protocol):
    """What a worker serves with: `poetcore.compose.Composer`, or `NoopComposer` for queue benchmarks."""

    def compose_batch(self, requests: Sequence[ComposeRequest]) -> list[Poem | PoetcoreInputError]: ...


@dataclass(frozen=True)
class Engine:
    """The process's composer and where it runs."""

    composer: BatchComposer
    device: str
    kind: Literal["real", "noop"]
    load_s: float

    def compose_batch(self, requests: Sequence[ComposeRequest]) -> list[Poem | PoetcoreInputError]:
        """One generate() call for several requests; bad ones come back as PoetcoreInputError."""
        return list(self.composer.compose_batch(requests))


class DeviceError(RuntimeError):
    """The requested device cannot be used (message says what to change)."""


def resolve_device(requested: str) -> str:
    """``auto`` -> ``cuda`` when a GPU is visible (after CUDA_VISIBLE_DEVICES), else ``cpu``."""
    if requested not in {"auto", "cpu", "cuda"}:
        raise ValueError(f"device must be auto, cpu or cuda, got {requested!r}")
    if requested == "cpu":
        return "cpu"
    import torch  # torch: the noop composer (tests, load benchmarks) never loads it

    if torch.cuda.is_available():
        return "cuda"
    if requested == "cuda":
        raise DeviceError(
            "--device cuda was asked for but torch sees no CUDA device (check the driver, the CUDA build of "
            "torch and CUDA_VISIBLE_DEVICES); use --device cpu or --device auto"
        )
    return "cpu"


def load_engine(engine: EngineSettings, worker: WorkerSettings) -> Engine:
    """Build the composer the settings name; logs and records the load time."""
    start = time.perf_counter()
    if worker.composer == "noop":
        log.warning("engine: using the noop composer (queue benchmarks only; answers are not poems)")
        return Engine(NoopComposer(worker.noop_delay_ms / 1000), "none", "noop", 0.0)
    path: Path | None = engine.model
    if path is not None and not (Path(path) / "config.json").is_file():
        # Fail before the slow torch import, with the same advice the composer gives.
        raise ModelLoadError(
            f"no model at {path} (config.json missing). Train one with `poetcore train` or point "
            "--model / POETCORE_MODEL at a saved model directory."
        )
    device = resolve_device(engine.device)
    from poetcore.compose import Composer  # torch, as above

    composer = Composer.from_pretrained(str(path) if path else None, device=device)
    load_s = time.perf_counter() - start
    MODEL_LOAD.labels(device=device).set(load_s)
    log.info("engine: composer loaded from %s on %s in %.2f s", path or "<shipped model>", device, load_s,
             extra={"model_load_s": round(load_s, 3), "device": device})
    return Engine(composer, device, "real", load_s)


_ENGINE: Engine | None = None


def set_engine(engine: Engine | None) -> None:
    """The worker installs its engine before the first job (`PoemWorker.load`)."""
    global _ENGINE
    _ENGINE = engine


def get_engine() -> Engine:
    """The process's engine; jobs run only inside a worker that loaded one."""
    if _ENGINE is None:
        raise RuntimeError("no engine loaded: poem jobs run inside PoemWorker, which loads it at start")
    return _ENGINE
