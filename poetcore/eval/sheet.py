"""Blind reading with real controls: the project's quality instrument (issue 23).

A coherent share from an A/B sheet is relative: readers grade each poem against the other one of
its pair, and the same poems scored 46.7% in one round and 54.4% in another. Levels come only from
sheets where real poems are mixed in. `write_sheet` composes every topic × form with each machine
side under the same per-job seed, draws as many unknown real poems of the same forms from the corpus
(`poetcore.eval.controls`), shuffles them all with the round's seed and numbers them. Readers get
``sheet.md`` only: the poems, nothing that tells their source. ``key.json`` keeps the source of each
number and the seed, so anyone can rebuild the sheet. `score_sheet` joins the readers' answers with
the key: per side, the coherent share, the mean score, how often it was taken for human.

A form may be a 词牌 (浣溪沙, 忆江南; issue 24): the machine writes its 正体, the controls are real 词
of the same 词牌 and shape, and a 词 is printed a sentence per row under its 词牌. 诗 and 词 mix freely
on one sheet. A 词 item keeps its ``marks`` (the punctuation after each segment) in the key: that is
how every reader of the key (`sheet_text`, `side_metrics`) tells a 词 from a 诗.

A reader's answers are one JSON file, ``answers-<reader>.json``::

    {"1": {"score": 3, "guess": "human"}, "2": {"score": 1, "guess": "machine"}, ...}

``score``: 1 to 5 (3 or more is coherent: every line makes sense and the lines belong together);
``guess``: ``"human"`` or ``"machine"``.
"""

from __future__ import annotations

import json
import math
import os
import random
import statistics
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from poetcore.errors import PoemShapeError
from poetcore.eval.controls import (
    CI_CONTROL_SOURCE,
    CONTROL_SOURCE,
    control_form,
    corpus_missing,
    draw_controls,
)
from poetcore.eval.diversity import distinct_characters, repeated_ngram_share
from poetcore.eval.evaluate import corpus_bigrams, corpus_lines, score_poems
from poetcore.lines.index import LineIndex
from poetcore.prosody.ci_check import check_ci
from poetcore.request import ComposeRequest, Poem
from poetcore.text.chars import poem_sentences

DEFAULT_TOPICS = Path(__file__).resolve().parents[2] / "docs" / "blind-reading" / "topics.txt"
SHEET_FORMS: tuple[str, ...] = ("七绝", "五律")
SHEET_FILE = "sheet.md"
KEY_FILE = "key.json"
KEY_VERSION = 2
"""1: the A/B pair sheets of rounds 1-9 (relative shares); 2: real controls mixed in."""
REAL = "real"
"""The side of the real control poems in the key and in the scores."""
GUESSES: tuple[str, ...] = ("human", "machine")
COHERENT = 3
"""The lowest coherent score: every line makes sense and the lines belong together."""
TOPIC_METRICS = ("topic_coverage", "topic_any_char_rate", "topic_artifact_poems", "topic_artifacts",
                 "topic_isolated_share")
"""Metrics about the requested topic: real poems had none."""
SHI_ONLY_METRICS = ("rhyme_dominant_reading_share", "rhyme_common_reading_share")
"""Metrics of `score_poems` that read a 诗's even lines as its 平水韵 rhymes: meaningless for a 词."""


@dataclass(frozen=True)
class Side:
    """One system under comparison: a model directory (its generation_config.json is its decoding),
    composed by this checkout's code or, with ``code``, by the poetcore in another checkout (an
    earlier revision's `git worktree`), so a sheet can compare whole systems, decoder included."""

    name: str
    model: Path | None  # None: the shipped model (of the checkout that composes)
    code: Path | None = None

    def describe(self) -> str:
        return str(self.model or "<shipped>") + (f" (code: {self.code})" if self.code else "")


_COMPOSE_ELSEWHERE = """
import json, sys
from poetcore.compose import Composer
from poetcore.request import ComposeRequest
model, jobs, candidates, device = json.loads(sys.stdin.read())
composer = Composer.from_pretrained(model, device=device)
out = []
for topic, form, seed in jobs:
    # n only when given: an older checkout's ComposeRequest has no "model default" (None)
    req = ComposeRequest(topic, form, seed=seed, **({"n": candidates} if candidates else {}))
    poem = composer.compose_batch([req])[0]
    if isinstance(poem, Exception):
        raise poem
    # marks: a 词's breaks; an older checkout's Poem (诗 only) has none
    out.append({"text": poem.text, "lines": poem.lines, "lm_logprob": poem.lm_logprob, "rhyme": poem.rhyme_group,
                "marks": getattr(poem, "marks", "")})
sys.stdout.write(json.dumps(out, ensure_ascii=False))
"""


def load_topics(path: Path = DEFAULT_TOPICS) -> list[str]:
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def fresh_seed() -> int:
    """A round's seed when none is given: drawn fresh, so no one tunes against a known set of
    controls; the key records it, so anyone can rebuild the sheet."""
    return random.SystemRandom().randrange(1, 2**31)


def _compose_all(
    side: Side, jobs: Sequence[tuple[str, str, int]], candidates: int | None, device: str | None
) -> list[dict[str, Any]]:
    if side.code is not None:
        return _compose_elsewhere(side, jobs, candidates, device)
    from poetcore.compose import Composer  # heavy: torch

    composer = Composer.from_pretrained(side.model, device=device)
    out: list[dict[str, Any]] = []
    for topic, form, seed in jobs:
        poem = composer.compose_batch([ComposeRequest(topic, form, n=candidates, seed=seed)])[0]
        if isinstance(poem, Exception):
            raise poem
        out.append(_poem_record(poem))
    return out


def _compose_elsewhere(
    side: Side, jobs: Sequence[tuple[str, str, int]], candidates: int | None, device: str | None
) -> list[dict[str, Any]]:
    """Compose in a child Python whose ``poetcore`` is the one in ``side.code``."""

    assert side.code is not None
    if not (side.code / "poetcore" / "compose.py").is_file():
        raise FileNotFoundError(f"{side.code} holds no poetcore checkout (poetcore/compose.py missing)")
    env = {**os.environ, "PYTHONPATH": str(side.code.resolve())}
    payload = json.dumps([str(side.model) if side.model else None, list(jobs), candidates, device])
    done = subprocess.run([sys.executable, "-c", _COMPOSE_ELSEWHERE], input=payload, capture_output=True, text=True,
                          env=env, cwd=side.code, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"composing with the code in {side.code} failed:\n{done.stderr[-2000:]}")
    records: list[dict[str, Any]] = json.loads(done.stdout)
    return records


def _poem_record(poem: Poem) -> dict[str, Any]:
    return {"text": poem.text, "lines": poem.lines, "lm_logprob": poem.lm_logprob, "rhyme": poem.rhyme_group,
            "marks": poem.marks}


SIDE_SEED_STRIDE = 100_000
"""Side k composes job i under ``seed + i + k * SIDE_SEED_STRIDE``."""


def sheet_jobs(topics: Sequence[str], forms: Sequence[str], seed: int, side: int = 0) -> list[tuple[str, str, int]]:
    """(topic, form, seed) per machine poem of the ``side``-th side: job i composes under
    ``seed + i + side * SIDE_SEED_STRIDE``. Each side has seeds of its own because two close systems
    under one seed write near-twin poems, and readers spot twins as a machine's template (round 12)."""
    base = seed + side * SIDE_SEED_STRIDE
    return [(topic, form, base + i) for i, (topic, form) in enumerate((t, f) for t in topics for f in forms)]


def _marks(poem: Mapping[str, Any]) -> dict[str, str]:
    """``{"marks": …}`` for a 词, nothing for a 诗: an item with marks is a 词."""
    return {"marks": poem["marks"]} if poem.get("marks") else {}


def is_ci_item(item: Mapping[str, Any]) -> bool:
    """Whether a key's item is a 词 (it keeps its marks; a 诗's are always ，。)."""
    return bool(item.get("marks"))


def assemble(
    jobs: Mapping[str, Sequence[tuple[str, str, int]]],
    machine: dict[str, list[dict[str, Any]]],
    controls: Sequence[dict[str, Any]],
    seed: int,
) -> list[dict[str, Any]]:
    """The key's items: every machine poem (``jobs[side]`` says what each was composed for) and every
    control, shuffled together with ``seed`` and numbered from 1. Machine items keep topic, seed and
    log-prob; real ones id, title, author, dynasty (a 词 its split too); a 词 of either side its marks."""
    entries: list[dict[str, Any]] = []
    for side, poems in machine.items():
        for (topic, form, poem_seed), poem in zip(jobs[side], poems, strict=True):
            entries.append({"side": side, "form": form, "lines": list(poem["lines"]), **_marks(poem), "topic": topic,
                            "seed": poem_seed, "lm_logprob": poem.get("lm_logprob"), "rhyme": poem.get("rhyme")})
    for poem in controls:
        entries.append({"side": REAL, "form": poem["form"], "lines": list(poem["lines"]), **_marks(poem),
                        **{k: poem.get(k, "") for k in ("id", "title", "author", "dynasty")},
                        **({"split": poem["split"]} if poem.get("split") else {})})
    random.Random(f"sheet:{seed}").shuffle(entries)
    return [{"item": n, **entry} for n, entry in enumerate(entries, start=1)]


def write_sheet(
    sides: Sequence[Side],
    out_dir: Path,
    *,
    data_dir: Path = Path("data/corpus"),
    topics: Sequence[str] | None = None,
    forms: Sequence[str] = SHEET_FORMS,
    controls: int | None = None,
    seed: int | None = None,
    candidates: int | None = None,
    device: str | None = None,
    index: LineIndex | None = None,
) -> dict[str, Any]:
    """Write ``sheet.md`` (for readers) and ``key.json`` (never for readers) under ``out_dir``.

    ``forms``: 诗 forms and charted 词牌, aliases allowed (each goes by its own name: 忆江南 for 望江南).
    ``controls``: real poems on the sheet (default: as many as all machine poems together; never
    fewer than one side's). ``seed``: the round's (default: `fresh_seed`). ``index``: the famous
    lines to keep out (default: the built-in index). Raises FileNotFoundError without a prepared
    corpus and ValueError for a sheet that cannot be built (a form without real poems among them),
    both before anything is composed."""
    names = [s.name for s in sides]
    if not sides or len(set(names)) != len(names) or REAL in names:
        raise ValueError(f"sides need distinct names other than {REAL!r}: got {names}")
    templates = [control_form(f) for f in forms]
    forms = list(dict.fromkeys(t.name for t in templates))
    seed = fresh_seed() if seed is None else seed
    topics = list(topics or load_topics())
    jobs = sheet_jobs(topics, forms, seed)
    if not jobs:
        raise ValueError("no topic or no form: nothing to compose")
    count = len(jobs) * len(sides) if controls is None else controls
    if count < len(jobs):
        raise ValueError(f"{count} real controls for {len(jobs)} poems per side: a sheet holds at least as many "
                         "real poems as any one side has")
    kinds = {t.is_ci for t in templates}
    for missing in (corpus_missing(data_dir, ci=ci) for ci in sorted(kinds)):
        if missing:
            raise FileNotFoundError(missing)
    for side in sides:
        if side.code is not None and not (side.code / "poetcore" / "compose.py").is_file():
            raise FileNotFoundError(f"{side.code} holds no poetcore checkout (poetcore/compose.py missing)")
    # Controls first: a corpus that cannot give them fails before minutes of composing.
    real = draw_controls(data_dir, [jobs[i % len(jobs)][1] for i in range(count)], seed, index)
    jobs_of = {side.name: sheet_jobs(topics, forms, seed, k) for k, side in enumerate(sides)}
    machine = {side.name: _compose_all(side, jobs_of[side.name], candidates, device) for side in sides}
    items = assemble(jobs_of, machine, real, seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / SHEET_FILE).write_text(sheet_text(items), encoding="utf-8")
    key = {
        "version": KEY_VERSION,
        "seed": seed,
        "forms": list(forms),
        "topics": topics,
        "candidates": candidates,
        "sides": {**{s.name: s.describe() for s in sides}, REAL: f"{control_source(kinds)} ({data_dir})"},
        "items": items,
    }
    (out_dir / KEY_FILE).write_text(json.dumps(key, ensure_ascii=False, indent=1), encoding="utf-8")
    return key


def control_source(kinds: set[bool]) -> str:
    """What the real side of a sheet is, for the key (``kinds``: whether each kind of form is 词)."""
    return "; ".join(CI_CONTROL_SOURCE if ci else CONTROL_SOURCE for ci in sorted(kinds))


def couplets(lines: Sequence[str]) -> list[str]:
    """``床前明月光，疑是地上霜。``: two lines to a row, the way every poem on the sheet is printed."""
    return ["".join(line + ("，" if k % 2 == 0 else "。") for k, line in enumerate(lines[i : i + 2]))
            for i in range(0, len(lines), 2)]


INSTRUCTIONS = """\
# 盲读 · Blind reading

以下诗作有的出自古人之手，有的由机器写成，顺序已随机打乱。请逐首独立阅读，不要查找出处。每首诗回答两项：

- 通顺分 `score`，1 至 5：
  - 5 优秀：可入选集
  - 4 良好：通顺连贯，且有佳句
  - 3 通顺：每句都讲得通，各句彼此相属
  - 2 有的句子讲不通，或与其余诗句不相属
  - 1 不知所云
- 猜测作者 `guess`：`human`（古人）或 `machine`（机器）

The poems below were written either by poets of the past or by a machine, in random order. Read each
one on its own and do not look anything up. For each poem give:

- a coherence `score`, 1 to 5:
  - 5 excellent: it could stand in an anthology
  - 4 good: coherent, with some fine lines
  - 3 coherent: every line makes sense and the lines belong together
  - 2 some lines do not make sense or do not belong with the rest
  - 1 nonsense
- a `guess`: `human` (a poet of the past) or `machine`

答案写成一个文件 `answers-<你的名字>.json`，每首一项 / Write your answers as one file
`answers-<your name>.json`, one entry per poem:

```json
{"1": {"score": 3, "guess": "human"}, "2": {"score": 2, "guess": "machine"}}
```
"""


def item_rows(item: Mapping[str, Any]) -> list[str]:
    """How an item is printed: a 诗 in couplets, a 词 a sentence per row (its breaks kept)."""
    return poem_sentences(item["lines"], item["marks"]) if is_ci_item(item) else couplets(item["lines"])


def sheet_text(items: Sequence[dict[str, Any]]) -> str:
    """The readers' sheet: instructions, then each poem as its number, its form (a 词's 词牌) and its
    rows (`item_rows`); real and machine poems printed alike, with no title, topic or author."""
    out = [INSTRUCTIONS]
    if any(is_ci_item(i) for i in items):  # the words for a sheet that holds 词 too
        out = [INSTRUCTIONS.replace("以下诗作", "以下诗词").replace("每首诗回答", "每首回答")]
    for item in items:
        out += [f"## {item['item']}. {item['form']}", ""]
        out += [row + "  " for row in item_rows(item)]  # two spaces: a line break in markdown
        out.append("")
    return "\n".join(out)


def load_key(out_dir: Path) -> dict[str, Any]:
    path = out_dir / KEY_FILE
    if not path.is_file():
        raise FileNotFoundError(f"no {KEY_FILE} in {out_dir}; write a sheet first with `poetcore eval --sheet {out_dir}`")
    key: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    if key.get("version") != KEY_VERSION:
        raise ValueError(f"{path} is an A/B pair sheet (before real controls); score it with the revision that wrote it")
    return key


def read_answers(path: Path, items: Sequence[int]) -> dict[int, tuple[int, str]]:
    """One reader's answers, item -> (score, guess); ValueError names the file and item of any
    answer that is not a score 1-5 with a guess human/machine. A ``null`` answer is unanswered."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ValueError(f"{path.name}: not valid JSON ({exc})") from None
    if not isinstance(raw, dict):
        raise ValueError(f'{path.name}: expected an object like {{"1": {{"score": 3, "guess": "human"}}}}')
    known = set(items)
    out: dict[int, tuple[int, str]] = {}
    for name, answer in raw.items():
        where = f"{path.name}, item {name}"
        number = int(name) if str(name).strip().isdigit() else None
        if number not in known:
            raise ValueError(f"{where}: the sheet has no such item (items 1 to {max(known, default=0)})")
        if answer is None:
            continue
        if not isinstance(answer, dict):
            raise ValueError(f'{where}: expected {{"score": 1-5, "guess": "human" or "machine"}}, got {answer!r}')
        score, guess = answer.get("score"), answer.get("guess")
        if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
            raise ValueError(f"{where}: score must be a whole number from 1 to 5, got {score!r}")
        if guess not in GUESSES:
            raise ValueError(f'{where}: guess must be "human" or "machine", got {guess!r}')
        assert number is not None
        out[number] = (score, guess)
    return out


def _share(flags: Sequence[bool]) -> float | None:
    """Share of true flags; None when nothing was answered (not a zero)."""
    return sum(flags) / len(flags) if flags else None


def score_sheet(out_dir: Path, data_dir: Path | None = None) -> dict[str, Any]:
    """Per side (each machine side and ``real``), over every ``answers-*.json`` in ``out_dir``: the
    coherent share (score 3 or more), per reader too, the mean score, the share taken for human and
    the readers' detection accuracy; overall detection accuracy, unanswered items per reader, a
    ranking of machine sides by mean score, and each side's text metrics (`side_metrics`)."""
    key = load_key(out_dir)
    paths = sorted(out_dir.glob("answers-*.json"))
    if not paths:
        raise FileNotFoundError(f"no answers-*.json in {out_dir}; readers write one file each")
    side_of = {int(i["item"]): i["side"] for i in key["items"]}
    sides = list(key["sides"])
    answers: dict[str, list[tuple[str, int, str]]] = {s: [] for s in sides}  # side -> (reader, score, guess)
    unanswered: dict[str, list[int]] = {}
    readers: list[str] = []
    for path in paths:
        reader = path.stem.removeprefix("answers-")
        readers.append(reader)
        mine = read_answers(path, list(side_of))
        unanswered[reader] = sorted(n for n in side_of if n not in mine)
        for number, (score, guess) in sorted(mine.items()):
            answers[side_of[number]].append((reader, score, guess))

    def correct(side: str, guess: str) -> bool:
        return (guess == "human") == (side == REAL)

    per_side: dict[str, dict[str, Any]] = {}
    for side in sides:
        got = answers[side]
        mean = statistics.fmean(s for _, s, _ in got) if got else None
        per_side[side] = {
            "description": key["sides"][side],
            "poems": sum(1 for s in side_of.values() if s == side),
            "answers": len(got),
            "coherent_share": _share([s >= COHERENT for _, s, _ in got]),
            "coherent_share_per_reader": {r: _share([s >= COHERENT for who, s, _ in got if who == r]) for r in readers},
            "mean_score": mean,
            "taken_for_human": _share([g == "human" for _, _, g in got]),
            "detection_accuracy": _share([correct(side, g) for _, _, g in got]),
        }
        if side != REAL:
            logprobs = [i["lm_logprob"] for i in key["items"] if i["side"] == side and i.get("lm_logprob") is not None]
            per_side[side]["mean_lm_logprob"] = statistics.fmean(logprobs) if logprobs else None
    judged = [(side, reader, g) for side in sides for reader, _, g in answers[side]]
    machine_sides = [s for s in sides if s != REAL]
    return {
        "seed": key["seed"],
        "readers": len(readers),
        "reader_names": readers,
        "items": len(side_of),
        "sides": per_side,
        "detection_accuracy": _share([correct(s, g) for s, _, g in judged]),
        "detection_accuracy_per_reader": {r: _share([correct(s, g) for s, who, g in judged if who == r]) for r in readers},
        "unanswered": unanswered,
        "ranking": sorted(machine_sides, key=lambda s: -(per_side[s]["mean_score"] or 0.0))
        if len(machine_sides) >= 2 else None,
        "text_metrics": side_metrics(key, data_dir),
    }


def ci_prosody(poems: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """Format, tone and rhyme accuracy of 词 by `check_ci` against each one's 词牌, the way
    `score_poems` reads 诗: format = a charted shape of its 词牌 fits, tone = no tone 犯律, rhyme = no
    rhyme 犯律 and a 部 found."""
    fmt = tone = rhyme = 0
    for p in poems:
        text = "".join(line + mark for line, mark in zip(p["lines"], p["marks"], strict=True))
        try:
            report = check_ci(text, cipai=p["form"])
        except PoemShapeError:
            continue
        codes = {v["code"] for v in report.violations}
        fmt += 1
        tone += "tone" not in codes
        rhyme += "rhyme" not in codes and report.rhyme_bu is not None
    n = max(1, len(poems))
    return {"format_accuracy": fmt / n, "tone_accuracy": tone / n, "rhyme_accuracy": rhyme / n}


def side_metrics(key: dict[str, Any], data_dir: Path | None = None) -> dict[str, dict[str, float]]:
    """`poetcore.eval.evaluate.score_poems` per side of a sheet (distinct-n, rhyme readings, topic
    artifacts, season clashes; copy rate and isolated pairs only with a prepared corpus in ``data_dir``)
    plus distinct characters and the repeated 4-gram share (`poetcore.eval.diversity`), so a round's
    numbers come from the very poems its readers judged. The real side is the yardstick; it has no
    topic metrics. Distinct characters grow with the number of poems: compare sides of equal size.

    词 are measured against the 词 (copies and odd pairs against ``ci_train``), with format, tone and
    rhyme accuracy by `check_ci` (`ci_prosody`) and without the 诗-only rhyme reading shares. 诗 and 词
    are never averaged together: on a sheet that holds both, each side is reported per kind, as
    ``"<side>·诗"`` and ``"<side>·词"``."""

    kinds = {is_ci_item(i) for i in key["items"]}
    out: dict[str, dict[str, float]] = {}
    for ci in sorted(kinds):
        train = f"{'ci_' if ci else ''}train"
        corpus = data_dir if data_dir is not None and (data_dir / f"{train}.jsonl.gz").is_file() else None
        train_lines = corpus_lines(corpus, train) if corpus else None
        bigrams = corpus_bigrams(corpus, train) if corpus else None
        for side in key["sides"]:
            poems = [{"topic": i.get("topic", ""), "form": i["form"], "lines": i["lines"], "marks": i.get("marks", "")}
                     for i in key["items"] if i["side"] == side and is_ci_item(i) == ci]
            if not poems:
                continue
            metrics = score_poems(poems, train_lines, bigrams)
            if ci:
                metrics = {k: v for k, v in metrics.items() if k not in SHI_ONLY_METRICS} | ci_prosody(poems)
            metrics["distinct_characters"] = distinct_characters(poems)
            metrics["repeated_4gram_share"] = repeated_ngram_share(poems)
            if side == REAL:
                metrics = {k: v for k, v in metrics.items() if k not in TOPIC_METRICS}
            out[f"{side}·{'词' if ci else '诗'}" if len(kinds) > 1 else side] = metrics
    return out


def _percent(value: float | None) -> str:
    return "–" if value is None or math.isnan(value) else f"{100 * value:.1f}%"


def markdown_table(result: dict[str, Any]) -> str:
    """The reading results of `score_sheet` as the markdown table that goes into notes: one column
    per side (machine sides, then real)."""
    sides = result["sides"]
    names = [s for s in sides if s != REAL] + [s for s in sides if s == REAL]

    def per_reader(side: str) -> str:
        shares = sides[side]["coherent_share_per_reader"].values()
        return " / ".join("–" if v is None else f"{100 * v:.0f}" for v in shares) + "%"

    rows = [
        ("coherent share (score ≥ 3), all readers", lambda s: _percent(sides[s]["coherent_share"])),
        ("coherent share per reader", per_reader),
        ("mean score (1–5)", lambda s: "–" if sides[s]["mean_score"] is None else f"{sides[s]['mean_score']:.2f}"),
        ("taken for human", lambda s: _percent(sides[s]["taken_for_human"])),
        ("detection accuracy", lambda s: _percent(sides[s]["detection_accuracy"])),
    ]
    out = ["| | " + " | ".join(f"{n} ({sides[n]['poems']})" for n in names) + " |",
           "|---|" + "---|" * len(names)]
    out += [f"| {label} | " + " | ".join(cell(n) for n in names) + " |" for label, cell in rows]
    missing = {r: len(v) for r, v in result["unanswered"].items() if v}
    out += ["", f"{result['readers']} reader{'' if result['readers'] == 1 else 's'} · overall detection accuracy {_percent(result['detection_accuracy'])}"
            + (" · unanswered: " + ", ".join(f"{r} {n}" for r, n in missing.items()) if missing else "")
            + f" · seed {result['seed']}"]
    return "\n".join(out) + "\n"


__all__ = [
    "DEFAULT_TOPICS",
    "GUESSES",
    "KEY_VERSION",
    "REAL",
    "SHEET_FORMS",
    "Side",
    "assemble",
    "ci_prosody",
    "control_source",
    "couplets",
    "fresh_seed",
    "is_ci_item",
    "item_rows",
    "load_key",
    "load_topics",
    "markdown_table",
    "read_answers",
    "score_sheet",
    "sheet_jobs",
    "sheet_text",
    "side_metrics",
    "write_sheet",
]
