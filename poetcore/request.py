"""What one poem request is, and the validation that needs no model: torch-free.

The queue protocol, the bots and the CLI all import this module (for the limits and the checks),
so it must never import torch or transformers. `poetcore.compose.Composer` serves these requests.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

from poetcore.errors import PoetcoreInputError
from poetcore.prosody.checker import CheckReport, Violation, check
from poetcore.prosody.ci_check import CiReport, check_ci
from poetcore.prosody.forms import FormTemplate
from poetcore.text.chars import is_han, to_simplified, to_traditional

RepeatPolicy = Literal["none", "dieci", "any"]
"""Character repeats inside a poem: never; only 叠字 (the same character twice in a row, e.g. 萧萧); any."""
REPEAT_POLICIES: tuple[str, ...] = ("none", "dieci", "any")

MAX_TOPIC_CHARS = 12
"""Longest topic accepted: a title-length phrase. Longer text is not a topic but a prompt we cannot honour."""
MAX_CANDIDATES = 64


@dataclass
class Poem:
    """A composed poem; ``score`` is the rerank score (higher is better)."""

    lines: list[str]
    form: str
    rhyme_group: str  # label users type, e.g. "东"
    title: str
    topic: str
    score: float
    heads: list[str] | None = None
    variant: str | None = None
    seed: int | None = None
    lm_logprob: float = 0.0  # mean log-prob per character
    topic_coverage: float = 0.0
    traditional: bool = False
    line_fit: float = 0.0  # nats per character the lines gain from the lines before them (rerank)
    critic: float = 0.0  # the critic's log-odds that this is a real poem (rerank; 0 when no critic ran)
    marks: str = ""  # a 词's punctuation after each line, as its chart breaks them ("": a 诗's ，。)
    kind: str = "诗"  # 诗 or 词

    @property
    def punctuation(self) -> str:
        return self.marks or "".join("，" if i % 2 == 0 else "。" for i in range(len(self.lines)))

    @property
    def text(self) -> str:
        return "".join(line + mark for line, mark in zip(self.lines, self.punctuation, strict=True))

    def check(self) -> CheckReport | CiReport:
        """Judge the poem with the same checker users run (on the simplified text): a 词 against its
        词牌's chart, named in the title line so no other 词牌 of the same shape can claim it."""
        lines = [to_simplified(line) for line in self.lines] if self.traditional else self.lines
        if self.kind == "词":
            text = "".join(line + mark for line, mark in zip(lines, self.punctuation, strict=True))
            return check_ci(f"{to_simplified(self.form)}\n{text}")
        return check("\n".join(lines), form=self.form)

    def prefix_faults(self, given: int) -> list[Violation]:
        """The 犯律 of the first ``given`` lines: a 续写 or 对句 keeps the user's lines as written, so
        whatever they break is theirs to hear about, in the checker's words."""
        if not given:
            return []
        report = self.check()
        assert isinstance(report, CheckReport), "a 词 is never continued"
        return [v for v in report.violations if v.line < given]

    def to_traditional(self) -> Poem:
        if self.traditional:
            return self
        return Poem(
            **{
                **asdict(self),
                "lines": [to_traditional(line) for line in self.lines],
                "title": to_traditional(self.title),
                "traditional": True,
            }
        )

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["text"] = self.text
        return d


@dataclass(frozen=True)
class ComposeRequest:
    """One poem request: what the CLI, the queue job and `Composer.compose_batch` all pass around."""

    topic: str
    form: str = "七绝"
    heads: str | Sequence[str] | None = None
    rhyme: str | None = None
    n: int | None = None  # candidates to rerank; None: the model's own ``candidates`` (generation_config.json)
    seed: int | None = None
    repeat: RepeatPolicy = "dieci"
    traditional: bool = False
    prefix: str | Sequence[str] | None = None  # 续写: the user's leading lines, kept verbatim


def _han_only(text: str) -> str:
    return "".join(ch for ch in text if is_han(ch))


def validate_topic(topic: str | None, *, required: bool = True) -> str:
    """Simplified Han characters of the topic; PoetcoreInputError explains what is wrong."""
    raw = (topic or "").strip()
    if not raw:
        if not required:
            return ""
        raise PoetcoreInputError(
            "empty_topic", "请给出诗的题目，例如：秋月。", "Please give a topic, e.g. 秋月 (autumn moon)."
        )
    han = to_simplified(_han_only(raw))
    if not han:
        raise PoetcoreInputError(
            "topic_not_chinese",
            f"题目“{raw[:20]}”里没有汉字，请用中文题目，例如：秋月、送别、边塞。",
            f"The topic {raw[:20]!r} has no Chinese characters; use a Chinese topic such as 秋月, 送别 or 边塞.",
        )
    if len(han) > MAX_TOPIC_CHARS:
        raise PoetcoreInputError(
            "topic_too_long",
            f"题目太长（{len(han)}字），最多{MAX_TOPIC_CHARS}个汉字。",
            f"The topic is too long ({len(han)} characters); at most {MAX_TOPIC_CHARS} Chinese characters.",
        )
    return han


def validate_heads(heads: str | Sequence[str] | None, form: FormTemplate) -> tuple[str, ...] | None:
    """Simplified head characters, one per line (spaces ignored); PoetcoreInputError says what is wrong.

    Only what needs no model: the vocabulary and tone checks happen in `Composer`.
    """
    if not heads:
        return None
    raw = "".join("".join(heads).split())  # "春 夏 秋 冬" means 春夏秋冬
    non_han = [ch for ch in raw if not is_han(ch)]
    if non_han:
        raise PoetcoreInputError(
            "heads_not_chinese",
            f"藏头字必须是汉字，“{''.join(non_han)[:10]}”不是。",
            f"Head characters must be Chinese; {''.join(non_han)[:10]!r} is not.",
        )
    out = tuple(to_simplified(raw))
    if len(out) != form.n_lines:
        raise PoetcoreInputError(
            "heads_count",
            f"{form.name}有{form.n_lines}句，藏头字需要{form.n_lines}个，你给了{len(out)}个。",
            f"A {form.name} has {form.n_lines} lines, so it needs {form.n_lines} head characters; got {len(out)}.",
        )
    return out


def validate_prefix(prefix: str | Sequence[str] | None, form: FormTemplate) -> tuple[str, ...]:
    """The user's leading lines for 续写, simplified, one per line; PoetcoreInputError says what is wrong.

    A string is split at punctuation and spaces ("白日依山尽，黄河入海流"); every line must have the
    form's line length, and at least one line must be left to write.
    """
    if not prefix:
        return ()
    parts = [prefix] if isinstance(prefix, str) else list(prefix)
    lines = [to_simplified(_han_only(seg)) for part in parts for seg in re.split(r"[，。！？；：、,.!?;:\s]+", part)]
    lines = [line for line in lines if line]
    if not lines:
        raise PoetcoreInputError("prefix_empty", "请给出要续写的诗句，例如：白日依山尽。",
                                 "Give the line(s) to continue, e.g. 白日依山尽.")
    length = form.line_lengths[0]
    for i, line in enumerate(lines, start=1):
        if len(line) != length:
            raise PoetcoreInputError(
                "prefix_length",
                f"{form.name}每句{length}字，第{i}句“{line[:12]}”有{len(line)}字。",
                f"Each line of a {form.name} has {length} characters; line {i} ({line[:12]}) has {len(line)}.",
            )
    if len(lines) >= form.n_lines:
        raise PoetcoreInputError(
            "prefix_too_long",
            f"{form.name}共{form.n_lines}句，给了{len(lines)}句，没有可续的了。",
            f"A {form.name} has {form.n_lines} lines and you gave {len(lines)}: nothing is left to write.",
        )
    return tuple(lines)


def topic_keywords(topic: str) -> list[str]:
    """Split a topic into the short keywords the model was conditioned on (at most 3, 1–2 chars each... or whole)."""
    if len(topic) <= 4:
        return [topic]
    return [topic[i : i + 2] for i in range(0, min(len(topic), 6), 2)]


__all__ = [
    "MAX_CANDIDATES",
    "MAX_TOPIC_CHARS",
    "REPEAT_POLICIES",
    "ComposeRequest",
    "Poem",
    "RepeatPolicy",
    "topic_keywords",
    "validate_heads",
    "validate_prefix",
    "validate_topic",
]
