"""The poem spec: what one row of a batch must meet, and the chart facts decoding derives from it.

Torch-free: `PoemSpec` is built by the composer from a `ComposeRequest`, validated here (naming the
bad value), and turned into per-step layouts and tone-requirement tables that
`poetcore.decoding.processor` loads into tensors once per spec.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from poetcore.prosody.forms import FormTemplate, FormVariant, allowed_tones
from poetcore.prosody.rhymes import RhymeTable, Tone
from poetcore.request import REPEAT_POLICIES, RepeatPolicy

__all__ = [
    "CODE_ANY", "CODE_NONE", "CODE_PING", "CODE_ZE", "FORCE_ECHO", "FORCE_HEAD", "FORCE_NONE", "FORCE_PREFIX", "KIND_CHAR",
    "KIND_DONE", "KIND_EOS", "KIND_PUNCT", "PoemSpec", "body_layout", "feasible_variants", "pattern_codes",
    "position_codes", "prefix_misfits", "rhyme_readings",
]

# Tone requirement codes, index into VocabMasks.tone_table; bit sets (1 平, 2 仄), so OR unites them.
CODE_NONE, CODE_PING, CODE_ZE, CODE_ANY = 0, 1, 2, 3
KIND_CHAR, KIND_PUNCT, KIND_EOS = 0, 1, 2
KIND_DONE = 3  # past the end of a row's layout (a shorter form in a mixed batch)
FORCE_NONE, FORCE_PREFIX, FORCE_HEAD, FORCE_ECHO = 0, 1, 2, 3
_TONE_SETS = (frozenset((Tone.PING,)), frozenset((Tone.ZE,)), frozenset((Tone.PING, Tone.ZE)))


@dataclass(frozen=True)
class PoemSpec:
    """The decoding constraints one row of the batch must meet, derived from a `ComposeRequest`."""

    form: FormTemplate
    heads: tuple[str, ...] | None = None  # one character per line (藏头)
    rhyme_gid: str | None = None  # rhyme chosen by the user: a 平水韵 group id, or 部<k> for a 词
    topic: str = ""  # characters to favour (soft bias)
    repeat: RepeatPolicy = "dieci"
    variants: tuple[int, ...] | None = None  # indices of allowed variants (None: all)
    prefix: tuple[str, ...] = ()  # 续写: leading lines written verbatim (the variant is fitted to them)

    def __post_init__(self) -> None:
        # Fail here, naming the bad value, rather than deep inside generate() (a short heads
        # tuple used to surface as a bare zip() error, an unknown repeat policy as "none").
        if self.repeat not in REPEAT_POLICIES:
            raise ValueError(f"repeat must be one of {', '.join(REPEAT_POLICIES)}, got {self.repeat!r}")
        if self.heads is not None:
            if any(v.echoes for v in self.form.variants):
                raise ValueError(f"{self.form.name} repeats lines (叠句): its lines cannot take heads")
            if len(self.heads) != self.form.n_lines:
                raise ValueError(
                    f"heads {self.heads!r} has {len(self.heads)} characters; {self.form.name} needs {self.form.n_lines}"
                )
            bad = [h for h in self.heads if not (isinstance(h, str) and len(h) == 1)]
            if bad:
                raise ValueError(f"each head must be one character, got {bad!r}")
        if self.prefix:
            if len(self.prefix) >= self.form.n_lines or any(
                len(line) != n for line, n in zip(self.prefix, self.form.line_lengths, strict=False)
            ):
                raise ValueError(f"prefix {self.prefix!r} does not fit the lines of a {self.form.name}")
            if self.heads is not None:
                raise ValueError("a poem takes either heads or a prefix, not both")
        if self.variants is not None:
            out = [v for v in self.variants if not 0 <= v < len(self.form.variants)]
            if out or not self.variants:
                raise ValueError(
                    f"variants {self.variants!r}: need indices in 0..{len(self.form.variants) - 1} for {self.form.name}"
                )


def body_layout(form: FormTemplate, comma_id: int, period_id: int) -> list[tuple[int, int, int]]:
    """Step-by-step layout of a poem body: characters, punctuation after each line, EOS."""
    out: list[tuple[int, int, int]] = []
    marks = form.variants[0].punctuation  # a 词 puts its own breaks; a 诗 alternates ，。
    for line, length in enumerate(form.line_lengths):
        out.extend((KIND_CHAR, line, pos) for pos in range(length))
        out.append((KIND_PUNCT, comma_id if marks[line] == "，" else period_id, -1))
    out.append((KIND_EOS, -1, -1))
    return out


def rhyme_readings(ch: str, table: RhymeTable, tone: Tone) -> frozenset[str]:
    """The 平水韵 groups ``ch`` can rhyme in, in the form's rhyme tone (平: the 平声 groups; 仄: 上去入)."""
    return table.ping_groups(ch) if tone is Tone.PING else frozenset(
        g for g in table.groups(ch) if table.group(g).tone is not Tone.PING)


def prefix_misfits(spec: PoemSpec, table: RhymeTable, variant: int) -> int:
    """How many characters of the prefix break ``variant``'s chart (its rhyme positions included)."""
    pattern: FormVariant = spec.form.variants[variant]
    misfits = 0
    rhymes: list[frozenset[str]] = []
    for line_no, line in enumerate(spec.prefix):
        tones: list[frozenset[Tone]] = []
        for ch in line:
            have = table.tones(ch)
            allowed = allowed_tones(pattern.lines[line_no], tuple(tones), spec.form.rules)
            if not (have & allowed):
                misfits += 1
                if not spec.form.rules and have:
                    # A rule-free chart (古绝) counts each misfit once: later positions do not depend
                    # on it. Under 诗 rules the look-ahead keeps counting (a 拗 strains the rest).
                    have = allowed
            tones.append(have or frozenset((Tone.PING, Tone.ZE)))
        if line_no in pattern.rhyme_lines:
            rhymes.append(rhyme_readings(line[-1], table, pattern.rhyme_tone))
    if rhymes and not frozenset.intersection(*rhymes):
        misfits += 1  # the given rhyme lines share no group
    return misfits


def feasible_variants(spec: PoemSpec, table: RhymeTable) -> tuple[int, ...]:
    """Variants in which every head character's tone fits its line's first position; with a prefix,
    the variants the prefix fits best (all of its characters, if any variant takes them)."""
    variants = range(len(spec.form.variants)) if spec.variants is None else spec.variants
    if spec.prefix:
        fit = {v: prefix_misfits(spec, table, v) for v in variants}
        best = min(fit.values())
        return tuple(v for v in variants if fit[v] == best)
    if not spec.heads:
        return tuple(variants)
    ok = []
    for v in variants:
        pattern_lines = spec.form.variants[v].lines
        if all(table.tones(h) & allowed_tones(p, (), spec.form.rules)
               for h, p in zip(spec.heads, pattern_lines, strict=True)):
            ok.append(v)
    return tuple(ok)


def position_codes(pattern: str) -> tuple[int, ...]:
    """Requirement code of each position of a pattern bound by no cross-position rule (a 词, a 古绝):
    the mark alone decides, whatever was written before."""
    return tuple(CODE_ANY if m == "中" else CODE_PING if m == "平" else CODE_ZE for m in pattern)


@lru_cache(maxsize=64)
def pattern_codes(pattern: str) -> tuple[int, ...]:
    """Requirement code of every (position, tone history) of one line pattern, flattened.

    A line's history is the tone class (0 平, 1 仄, 2 either: a polyphonic character) of each
    character written so far, read as a base-3 number ``value``; position ``k`` and history
    ``value`` sit at ``offset(k) + value`` with ``offset(k) = (3**k - 1) // 2``. A 7-character
    pattern has 1,093 entries, and all eight patterns of the four forms take ~50 ms once per process,
    so decoding looks the chart up with one gather instead of calling `allowed_tones` per row.
    """
    codes: list[int] = []
    for pos in range(len(pattern)):
        for value in range(3**pos):
            digits = [(value // 3 ** (pos - 1 - i)) % 3 for i in range(pos)]
            allowed = allowed_tones(pattern, tuple(_TONE_SETS[d] for d in digits))
            codes.append(CODE_ANY if len(allowed) == 2 else CODE_PING if Tone.PING in allowed else CODE_ZE if allowed else CODE_NONE)
    return tuple(codes)
