"""Loads the composer once per process and picks the device.

torch and ``poetcore.compose`` are imported inside functions only, so that importing the
``worker`` package (as the bots do, for ``worker.client``) never pulls them in.

One worker process drives one device. With several GPUs run one process per GPU, each with its
own ``CUDA_VISIBLE_DEVICES=<i>``; inside the process that GPU is ``cuda`` (index 0).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from worker.metrics import MODEL_LOAD
from worker.settings import QueueSettings

log = logging.getLogger(__name__)


class PoemLike(Protocol):
    def to_dict(self) -> dict[str, Any]: ...


class ComposerLike(Protocol):
    def compose(
        self, topic: str, form: str = ..., heads: str | None = ..., rhyme: str | None = ..., n: int = ...,
        seed: int | None = ...,
    ) -> PoemLike: ...

    def compose_batch(self, requests: list[Any]) -> list[PoemLike]: ...


@dataclass(frozen=True)
class ComposeArgs:
    """Arguments of one ``compose`` call, the same for the noop and the real composer."""

    topic: str
    form: str = "七绝"
    heads: str | None = None
    rhyme: str | None = None
    n: int = 8
    seed: int | None = None
    traditional: bool = False

    def as_kwargs(self) -> dict[str, Any]:
        return {"topic": self.topic, "form": self.form, "heads": self.heads, "rhyme": self.rhyme, "n": self.n,
                "seed": self.seed, "traditional": self.traditional}


@dataclass
class _NoopPoem:
    title: str
    lines: list[str]
    form: str

    def to_dict(self) -> dict[str, Any]:
        punct = ["，" if i % 2 == 0 else "。" for i in range(len(self.lines))]
        return {"title": self.title, "lines": self.lines, "form": self.form, "rhyme_group": "",
                "text": "".join(line + p for line, p in zip(self.lines, punct, strict=True)), "score": 0.0}


@dataclass
class NoopComposer:
    """Returns the topic's characters laid out in the form's shape, after ``delay_s``.

    Only for measuring the queue itself (``POETCORE_COMPOSER=noop``); never a real answer.
    """

    delay_s: float = 0.0
    calls: int = field(default=0, init=False)

    def compose(self, topic: str, form: str = "七绝", heads: str | None = None, rhyme: str | None = None,
                n: int = 8, seed: int | None = None, traditional: bool = False) -> _NoopPoem:
        return self.compose_batch([ComposeArgs(topic, form, heads, rhyme, n, seed, traditional)])[0]

    def compose_batch(self, requests: list[Any]) -> list[_NoopPoem]:
        self.calls += 1
        if self.delay_s:
            time.sleep(self.delay_s)
        return [self._shape(r) for r in requests]

    @staticmethod
    def _shape(req: Any) -> _NoopPoem:
        width = 5 if str(req.form).startswith("五") else 7
        rows = 8 if str(req.form).endswith("律") else 4
        source = (req.heads or "") + (req.topic or "") or "诗"
        lines = [(source[i % len(source)] + source * width)[:width] for i in range(rows)]
        return _NoopPoem(title=req.topic or req.heads or "", lines=lines, form=req.form)


@dataclass(frozen=True)
class Engine:
    composer: Any
    device: str
    kind: str
    load_s: float

    def compose_batch(self, args: list[ComposeArgs]) -> list[Any]:
        """One generate() call for several requests; bad ones come back as PoetcoreInputError."""
        if self.kind == "noop":
            return list(self.composer.compose_batch(args))
        from poetcore.compose import ComposeRequest

        return list(self.composer.compose_batch([ComposeRequest(**a.as_kwargs()) for a in args]))

    def compose(self, args: ComposeArgs) -> PoemLike:
        return self.composer.compose(**args.as_kwargs())


class DeviceError(RuntimeError):
    """The requested device cannot be used (message says what to change)."""


def resolve_device(requested: str) -> str:
    """``auto`` -> ``cuda`` when a GPU is visible (after CUDA_VISIBLE_DEVICES), else ``cpu``."""
    if requested not in {"auto", "cpu", "cuda"}:
        raise ValueError(f"device must be auto, cpu or cuda, got {requested!r}")
    if requested == "cpu":
        return "cpu"
    import torch

    if torch.cuda.is_available():
        return "cuda"
    if requested == "cuda":
        raise DeviceError(
            "--device cuda was asked for but torch sees no CUDA device (check the driver, the CUDA build of "
            "torch and CUDA_VISIBLE_DEVICES); use --device cpu or --device auto"
        )
    return "cpu"


def load_engine(settings: QueueSettings) -> Engine:
    """Build the composer named by the settings; logs and records the load time."""
    start = time.perf_counter()
    if settings.composer == "noop":
        engine = Engine(NoopComposer(settings.noop_delay_ms / 1000), "none", "noop", 0.0)
        log.warning("engine: using the noop composer (queue benchmarks only; answers are not poems)")
        return engine
    path: Path | None = settings.model_path
    if path is not None and not (Path(path) / "config.json").is_file():
        # Fail before the slow torch import, with the same advice the composer gives.
        from poetcore.errors import ModelLoadError

        raise ModelLoadError(
            f"no model at {path} (config.json missing). Train one with `poetcore train` or point "
            "--model / POETCORE_MODEL_PATH at a saved model directory."
        )
    device = resolve_device(settings.device)
    from poetcore.compose import Composer

    composer = Composer.from_pretrained(str(path) if path else None, device=device)
    load_s = time.perf_counter() - start
    MODEL_LOAD.labels(device=device).set(load_s)
    log.info("engine: composer loaded from %s on %s in %.2f s", path or "<shipped model>", device, load_s,
             extra={"model_load_s": round(load_s, 3), "device": device})
    return Engine(composer, device, "real", load_s)


_ENGINE: Engine | None = None


def set_engine(engine: Engine | None) -> None:
    global _ENGINE
    _ENGINE = engine


def get_engine(settings: QueueSettings | None = None) -> Engine:
    """The process's engine; loaded on first use when the worker did not preload it."""
    global _ENGINE
    if _ENGINE is None:
        _ENGINE = load_engine(settings or QueueSettings())
    return _ENGINE
