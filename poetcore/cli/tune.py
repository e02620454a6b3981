"""`poetcore tune ...`: learn from our own poems: the critic that reranks candidates, and preference training."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress, TaskID

tune_app = typer.Typer(help="调优 / tune: a critic that tells real poems from ours, and preference training.",
                         no_args_is_help=True, add_completion=False)
console = Console(stderr=True, soft_wrap=True)

ModelOpt = Annotated[Path | None, typer.Option("--model", "-m", help="The LM whose samples the critic judges "
                                                "(default: the shipped model).")]
DataOpt = Annotated[Path, typer.Option("--data", help="Prepared corpus (poetcore data prepare).")]


def _fail(message: str) -> typer.Exit:
    console.print(f"[red]错误 / error:[/red] {message}")
    return typer.Exit(2)


def _check_corpus(data_dir: Path) -> None:
    if not (data_dir / "valid.jsonl.gz").is_file():
        raise _fail(f"找不到语料 {data_dir}；请先运行 `poetcore data prepare`。 / no prepared corpus in {data_dir}: "
                    "run `poetcore data prepare` first.")


@tune_app.callback()
def tune_callback() -> None:
    """调优 / tuning commands."""


@tune_app.command("critic")
def critic_command(
    model: ModelOpt = None,
    data_dir: DataOpt = Path("data/corpus"),
    out: Annotated[Path, typer.Option("--out", help="Where to save the critic (copy it to <model>/critic to ship it).")]
    = Path("runs/critic"),
    negatives: Annotated[int, typer.Option("--negatives", help="Plain samples of ours to train on (as many real ones).")] = 4000,
    heldout: Annotated[int, typer.Option("--heldout", help="Held-out poems per class for the AUC.")] = 500,
    hard: Annotated[int, typer.Option("--hard", help="Negatives that are the composer's own choices under its "
                                      "shipped decoding (the poems users see).")] = 0,
    epochs: Annotated[int, typer.Option("--epochs")] = 3,
    lr: Annotated[float, typer.Option("--lr")] = 1e-4,
    temperature: Annotated[float | None, typer.Option("--temperature", help="Sampling temperature of the plain "
                                                      "negatives (default: the model's generation_config).")] = None,
    seed: int = 0,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Train a critic on real poems against the model's own samples; prints its held-out AUC."""
    from poetcore.model.modeling import default_model_dir  # heavy: torch
    from poetcore.tuning.critic_train import train_critic  # heavy: torch

    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING)
    _check_corpus(data_dir)
    if min(negatives, hard) < 0 or negatives + hard < 1 or heldout < 1:
        raise _fail("--negatives plus --hard, and --heldout, must be at least 1.")
    from poetcore.compose import Composer  # heavy: torch, only for the commands that compose

    composer = Composer.from_pretrained(model, device="cpu")
    tasks: dict[str, TaskID] = {}
    with Progress(console=console) as progress:
        def tick(stage: str, k: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = progress.add_task(stage, total=total)
            progress.update(tasks[stage], advance=k)

        report = train_critic(composer, Path(model or default_model_dir()), data_dir, out, negatives=negatives,
                              heldout=heldout, hard=hard, epochs=epochs, lr=lr, seed=seed, temperature=temperature,
                              progress=tick)
    console.print(f"held-out AUC {report.heldout_auc:.4f}; critic saved in {out} (ship: copy to <model>/critic)")


@tune_app.command("critic-auc")
def auc_command(
    model: ModelOpt = None,
    data_dir: DataOpt = Path("data/corpus"),
    critic: Annotated[Path | None, typer.Option("--critic", help="Critic directory (default: <model>/critic).")] = None,
    count: Annotated[int, typer.Option("--count", help="Poems per class.")] = 300,
    seed: int = 0,
) -> None:
    """The critic's AUC on the composer's shipped output against real poems (0.5: it cannot tell)."""
    from poetcore.model.critic import PoemCritic  # heavy: torch
    from poetcore.model.modeling import default_model_dir  # heavy: torch
    from poetcore.tuning.critic_train import output_auc  # heavy: torch

    _check_corpus(data_dir)
    path = critic or Path(model or default_model_dir()) / "critic"
    if not (path / "config.json").is_file():
        raise _fail(f"{path} holds no critic; train one with `poetcore tune critic`.")
    from poetcore.compose import Composer  # heavy: torch, as above

    composer = Composer.from_pretrained(model, device="cpu")
    result = output_auc(composer, PoemCritic.from_pretrained(path), data_dir, count=count, seed=seed)
    sys.stdout.write(json.dumps(result, indent=2) + "\n")


@tune_app.command("prefer")
def prefer_command(
    pairs: Annotated[Path, typer.Option("--pairs", help="pairs.jsonl.gz written beside a critic by `poetcore tune critic`.")],
    model: ModelOpt = None,
    data_dir: DataOpt = Path("data/corpus"),
    out: Annotated[Path, typer.Option("--out", help="Run directory; the model lands in out/final.")] = Path("runs/prefer"),
    beta: Annotated[float, typer.Option("--beta", help="DPO temperature of the implicit reward.")] = 0.1,
    nll_weight: Annotated[float, typer.Option("--nll-weight", help="Weight of the NLL on the real poem.")] = 1.0,
    lr: Annotated[float, typer.Option("--lr")] = 2e-5,
    epochs: Annotated[int, typer.Option("--epochs")] = 1,
    seed: int = 0,
) -> None:
    """Preference-train the LM (DPO): the real poem chosen over ours for the same prompt."""
    from poetcore.model.modeling import default_model_dir  # heavy: torch
    from poetcore.tuning.critic_train import load_examples  # heavy: torch
    from poetcore.tuning.preference import train_preference  # heavy: torch

    _check_corpus(data_dir)
    if not pairs.is_file():
        raise _fail(f"{pairs} not found; `poetcore tune critic` writes pairs.jsonl.gz beside the critic.")
    report = train_preference(Path(model or default_model_dir()), load_examples(pairs), data_dir, out, beta=beta,
                              nll_weight=nll_weight, lr=lr, epochs=epochs, seed=seed)
    console.print(f"{report.pairs} pairs, {report.steps} steps; valid bpc {report.valid_bpc_before:.4f} -> "
                  f"{report.valid_bpc_after:.4f}; model in {out / 'final'}")
