"""格律 as a [`LogitsProcessor`]: every sampled poem obeys its form by construction.

Design: the poem body has a fixed layout (characters, then ， or 。 after each line, then EOS), so the
number of generated tokens tells each row where it is. Per row we track

* which form variants (平起/仄起 × 首句入韵/不入韵) are still consistent with what was written,
* the tones of the current line (for 孤平 / 三平尾 / 三仄尾 look-ahead via ``forms.allowed_tones``),
* the 平声 rhyme groups still possible (fixed by the first rhyme character, or by the user),
* which characters were used (no repeats except 叠字).

Vocabulary-sized work is done with precomputed boolean masks (tone classes, rhyme groups, Han
characters); Python only loops over rows and variants (at most 4), never over the vocabulary.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import torch
from transformers import LogitsProcessor

from poetcore.chars import is_han
from poetcore.errors import PoetcoreInputError
from poetcore.forms import FormTemplate, allowed_tones
from poetcore.request import REPEAT_POLICIES, RepeatPolicy
from poetcore.rhyme_usage import RhymeUsage
from poetcore.rhymes import RhymeTable, Tone
from poetcore.seasons import SEASONS, SeasonLexicon

MIN_RHYME_GROUP_SIZE = 12
"""平声 groups with fewer usable characters in the vocabulary are only used when asked for by name:
a narrow group (e.g. 三江) can run out of unused characters before the last rhyme line."""

# Tone requirement codes, index into VocabMasks.tone_table.
_NONE, _PING, _ZE, _ANY = 0, 1, 2, 3
_KIND_CHAR, _KIND_PUNCT, _KIND_EOS = 0, 1, 2


class VocabMasks:
    """Boolean masks over a tokenizer's vocabulary, computed once per (tokenizer, rhyme table).

    Only tokens that decode to exactly one Han character with a known tone can fill a position:
    that keeps every position one token wide and every tone decision grounded in the table.

    With ``usage``, a generated rhyme character may only stand for the groups it is commonly rhymed
    in (`RhymeUsage.common`), so no rhyme rests on a reading nobody hears; without it, every reading
    in the table counts. Characters the user wrote (续写) always keep every reading.
    """

    def __init__(
        self, tokenizer, table: RhymeTable, usage: RhymeUsage | None = None, seasons: SeasonLexicon | None = None
    ) -> None:
        V = len(tokenizer)
        self.vocab_size = V
        self.table = table
        tokens = tokenizer.convert_ids_to_tokens(list(range(V)))
        special = set(tokenizer.all_special_ids)
        self.char_of: list[str | None] = [None] * V
        self.id_of: dict[str, int] = {}
        for i, tok in enumerate(tokens):
            if i in special or tok is None:
                continue
            text = tokenizer.convert_tokens_to_string([tok]).strip()
            if len(text) == 1 and is_han(text):
                self.char_of[i] = text
                self.id_of.setdefault(text, i)
        # Plain lists first, one tensor each at the end: per-element tensor writes over an 8k
        # vocabulary cost over a second at every model load.
        can_ping_l = [False] * V
        can_ze_l = [False] * V
        canon_l = list(range(V))  # token id -> first token id of the same character
        self.ping_groups = table.ping_group_ids()
        gindex = {g: k for k, g in enumerate(self.ping_groups)}
        group_rows: list[int] = []
        group_cols: list[int] = []
        self.tones: list[frozenset[Tone]] = [frozenset()] * V
        self.groups_of: list[frozenset[int]] = [frozenset()] * V  # every reading in the table
        self.rhyme_groups_of: list[frozenset[int]] = [frozenset()] * V  # readings a generated rhyme may use
        self.usage = usage
        for i, ch in enumerate(self.char_of):
            if ch is None:
                continue
            tones = table.tones(ch)
            self.tones[i] = tones
            can_ping_l[i] = Tone.PING in tones
            can_ze_l[i] = Tone.ZE in tones
            self.groups_of[i] = frozenset(gindex[g] for g in table.ping_groups(ch))
            common = table.ping_groups(ch) if usage is None else usage.common_groups(ch, table)
            gs = frozenset(gindex[g] for g in common)
            self.rhyme_groups_of[i] = gs
            group_rows.extend(gs)
            group_cols.extend([i] * len(gs))
            canon_l[i] = self.id_of[ch]
        can_ping = torch.tensor(can_ping_l, dtype=torch.bool)
        can_ze = torch.tensor(can_ze_l, dtype=torch.bool)
        group_mask = torch.zeros(len(self.ping_groups), V, dtype=torch.bool)  # (G, V): generated rhymes
        group_mask[torch.tensor(group_rows, dtype=torch.long), torch.tensor(group_cols, dtype=torch.long)] = True
        canon = torch.tensor(canon_l, dtype=torch.long)  # (V,)
        known = can_ping | can_ze
        self.known = known
        # (4, V): rows indexed by a requirement code.
        self.tone_table = torch.stack([torch.zeros(V, dtype=torch.bool), can_ping, can_ze, known])
        self.group_mask = group_mask
        self.group_mask_f = group_mask.float()
        self.canonical_of: list[int] = canon.tolist()
        self.group_sizes = group_mask.sum(1)  # (G,)
        self.canonical = canon  # token id -> first token id of the same character
        self.group_index = gindex
        self.eos_id = tokenizer.eos_token_id
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        # (5, V): row k marks the characters of every season but SEASONS[k]; row 4 (season unknown) is empty.
        self.season_of: list[int] = [len(SEASONS)] * V
        off = torch.zeros(len(SEASONS) + 1, V, dtype=torch.bool)
        for i, ch in enumerate(self.char_of):
            season = seasons.season_of.get(ch) if (seasons and ch) else None
            if season is not None:
                k = SEASONS.index(season)
                self.season_of[i] = k
                off[[j for j in range(len(SEASONS)) if j != k], i] = True
        self.off_season = off
        self.comma_id = self._punct_id(tokenizer, "，")
        self.period_id = self._punct_id(tokenizer, "。")

    @staticmethod
    def _punct_id(tokenizer, mark: str) -> int:
        ids = tokenizer(mark, add_special_tokens=False)["input_ids"]
        if len(ids) != 1:
            raise ValueError(f"tokenizer must encode {mark!r} as one token, got {ids}")
        return int(ids[0])


@lru_cache(maxsize=8)
def _cached_masks(
    tokenizer_key: int, tokenizer, table: RhymeTable, usage: RhymeUsage | None, seasons: SeasonLexicon | None
) -> VocabMasks:
    return VocabMasks(tokenizer, table, usage, seasons)


def vocab_masks(
    tokenizer, table: RhymeTable | None = None, usage: RhymeUsage | None = None, seasons: SeasonLexicon | None = None
) -> VocabMasks:
    """Masks for this tokenizer (with rhyme usage and season lexicon), cached per tokenizer object."""
    table = table or RhymeTable.default()
    return _cached_masks(id(tokenizer), tokenizer, table, usage, seasons)


@dataclass(frozen=True)
class PoemSpec:
    """The decoding constraints one row of the batch must meet, derived from a `ComposeRequest`."""

    form: FormTemplate
    heads: tuple[str, ...] | None = None  # one character per line (藏头)
    rhyme_gid: str | None = None  # 平声 group id chosen by the user (RhymeTable id, not the label)
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


@dataclass
class _RowState:
    spec: PoemSpec
    layout: list[tuple[int, int, int]]  # per step: (kind, line, pos) / (punct, token id, -1) / (eos, -1, -1)
    line_tones: list[frozenset[Tone]] = field(default_factory=list)
    last_codes: list[int] = field(default_factory=list)
    last_rhyme: list[bool] = field(default_factory=list)
    alive: list[bool] = field(default_factory=list)  # per variant: still consistent
    groups: set[int] = field(default_factory=set)  # 平声 rhyme groups still possible
    prev_char: int | None = None
    prev_prev_char: int | None = None
    season: int = -1  # index into SEASONS once fixed; len(SEASONS): none yet; -1: rule off for this row
    failed: bool = False


def body_layout(form: FormTemplate, comma_id: int, period_id: int) -> list[tuple[int, int, int]]:
    """Step-by-step layout of a poem body: characters, punctuation after each line, EOS."""
    out: list[tuple[int, int, int]] = []
    for line, length in enumerate(form.line_lengths):
        out.extend((_KIND_CHAR, line, pos) for pos in range(length))
        out.append((_KIND_PUNCT, comma_id if line % 2 == 0 else period_id, -1))
    out.append((_KIND_EOS, -1, -1))
    return out


def prefix_misfits(spec: PoemSpec, table: RhymeTable, variant: int) -> int:
    """How many characters of the prefix break ``variant``'s chart (its rhyme positions included)."""
    pattern = spec.form.variants[variant]
    misfits = 0
    rhymes: list[frozenset[str]] = []
    for line_no, line in enumerate(spec.prefix):
        tones: list[frozenset[Tone]] = []
        for ch in line:
            have = table.tones(ch)
            if not (have & allowed_tones(pattern.lines[line_no], tuple(tones))):
                misfits += 1
            tones.append(have or frozenset((Tone.PING, Tone.ZE)))
        if line_no in pattern.rhyme_lines:
            rhymes.append(table.ping_groups(line[-1]))
    if rhymes and not frozenset.intersection(*rhymes):
        misfits += 1  # the given rhyme lines share no 平声 group
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
        if all(table.tones(h) & allowed_tones(p, ()) for h, p in zip(spec.heads, pattern_lines, strict=True)):
            ok.append(v)
    return tuple(ok)


class PoemConstraintLogitsProcessor(LogitsProcessor):
    r"""[`LogitsProcessor`] that only allows tokens keeping each row a valid poem of its form.

    It enforces the line layout and punctuation, EOS only at the end, the tone chart of the still
    possible variants with 孤平 / 三平尾 / 三仄尾 look-ahead, one 平声 rhyme group, head characters
    (藏头) and the repeat policy; topic characters get an additive bias, only while unused and only
    where the LM itself finds them plausible (within ``topic_margin`` of its best allowed token):
    an unconditional bonus forced them into doubled or wordless spots (故故人, 湖水西西).

    Args:
        specs (`Sequence[PoemSpec]`):
            One spec per batch row.
        masks (`VocabMasks`):
            Precomputed vocabulary masks for the tokenizer in use.
        prompt_length (`int`):
            Length of the (left-padded) prompt; generated tokens start after it.
        topic_bias (`float`, *optional*, defaults to 1.5):
            Added to the logits of unused topic characters at character positions.
        topic_margin (`float`, *optional*, defaults to 4.0):
            The bias applies only to topic characters whose logit is within this many nats of the
            best allowed token's.
        season_penalty (`float`, *optional*, defaults to 0.0):
            Subtracted from the logits of characters of another season (`SeasonLexicon`) than the
            poem's: the topic's season, else the first seasonal character written. A topic naming
            two seasons turns the rule off for its row.
        strict (`bool`, *optional*, defaults to `False`):
            Raise when a row has no allowed token. Otherwise the row is marked in `failed` and ended
            with EOS, so one unlucky candidate does not sink a whole batch.

    Examples:

    ```python
    >>> from poetcore.compose import Composer
    >>> poem = Composer.from_pretrained().compose("秋月", form="七绝", seed=1)
    >>> poem.check().ok
    True
    ```
    """

    def __init__(
        self,
        specs: Sequence[PoemSpec],
        masks: VocabMasks,
        prompt_length: int,
        topic_bias: float = 1.5,
        strict: bool = False,
        topic_margin: float = 4.0,
        season_penalty: float = 0.0,
    ) -> None:
        if not specs:
            raise ValueError("specs must name at least one row")
        if prompt_length < 0:
            raise ValueError(f"prompt_length must be >= 0, got {prompt_length}")
        if not math.isfinite(topic_bias):
            raise ValueError(f"topic_bias must be a finite number, got {topic_bias!r}")
        if not (math.isfinite(topic_margin) and topic_margin >= 0):
            raise ValueError(f"topic_margin must be a finite number >= 0, got {topic_margin!r}")
        self.topic_margin = topic_margin
        if not (math.isfinite(season_penalty) and season_penalty >= 0):
            raise ValueError(f"season_penalty must be a finite number >= 0, got {season_penalty!r}")
        self.season_penalty = season_penalty
        self.masks = masks
        self.table = masks.table
        self.prompt_length = prompt_length
        self.strict = strict
        self.rows: list[_RowState] = []
        nv = max(len(s.form.variants) for s in specs)
        B, V, G = len(specs), masks.vocab_size, len(masks.ping_groups)
        self.n_variants = nv
        self.n_groups = G
        self.used = torch.zeros(B, V, dtype=torch.bool)  # (B, V) canonical ids already written
        self.reserved = torch.zeros(B, V, dtype=torch.bool)  # (B, V) head chars: only at head positions
        self.bias = torch.zeros(B, V)  # (B, V)
        wide = masks.group_sizes >= MIN_RHYME_GROUP_SIZE
        for b, spec in enumerate(specs):
            feasible = feasible_variants(spec, self.table)
            if not feasible:
                raise PoetcoreInputError(
                    "heads_conflict", "藏头字的声调与所有格律变体都冲突。", "The head characters fit no tonal variant."
                )
            row = _RowState(spec, body_layout(spec.form, masks.comma_id, masks.period_id))
            row.alive = [v in feasible for v in range(nv)]
            if spec.rhyme_gid is not None:
                if spec.rhyme_gid not in masks.group_index:
                    raise ValueError(f"rhyme group {spec.rhyme_gid!r} is not a 平声 group")
                row.groups = {masks.group_index[spec.rhyme_gid]}
            elif spec.prefix:
                row.groups = set(range(G))  # the user's rhyme decides, even in a narrow group
            else:
                row.groups = set(wide.nonzero().flatten().tolist())
            for ch in "".join(spec.prefix):
                if ch not in masks.id_of:
                    raise PoetcoreInputError(
                        "prefix_not_in_vocab", f"“{ch}”不在模型字表中，无法续写这句。",
                        f"{ch!r} is not in the model's vocabulary, so this line cannot be continued.",
                    )
            for h in spec.heads or ():
                hid = masks.id_of.get(h)
                if hid is None:
                    raise PoetcoreInputError(
                        "head_not_in_vocab", f"藏头字“{h}”不在模型字表中，请换一个字。",
                        f"Head character {h!r} is not in the model's vocabulary; pick another.",
                    )
                self.reserved[b, hid] = True
            row.season = self._topic_season(spec.topic)
            for ch in dict.fromkeys(spec.topic):
                tid = masks.id_of.get(ch)
                if tid is not None and bool(masks.known[tid]):
                    self.bias[b, tid] = topic_bias
            self.rows.append(row)
        self.max_new_tokens = max(len(r.layout) for r in self.rows)
        self._next_step = 0  # the state follows generation one token at a time

    def _topic_season(self, topic: str) -> int:
        found = {self.masks.season_of[i] for ch in topic if (i := self.masks.id_of.get(ch)) is not None}
        found.discard(len(SEASONS))
        if len(found) > 1:
            return -1
        return found.pop() if found else len(SEASONS)

    @property
    def failed(self) -> list[bool]:
        return [r.failed for r in self.rows]

    def alive_variants(self, b: int) -> list[int]:
        return [v for v, ok in enumerate(self.rows[b].alive) if ok]

    def rhyme_groups(self, b: int) -> list[str]:
        return [self.masks.ping_groups[g] for g in sorted(self.rows[b].groups)]

    # -- per-step bookkeeping -----------------------------------------------------------------

    def _requirements(self, b: int, line: int, pos: int) -> tuple[list[int], list[bool]]:
        """Tone code and rhyme flag per variant for row b at (line, pos)."""
        row = self.rows[b]
        codes, rhyme = [], []
        prefix = tuple(row.line_tones)
        for v, variant in enumerate(row.spec.form.variants):
            if not row.alive[v]:
                codes.append(_NONE)
                rhyme.append(False)
                continue
            allowed = allowed_tones(variant.lines[line], prefix)
            code = (
                _ANY if len(allowed) == 2 else _PING if Tone.PING in allowed else _ZE if Tone.ZE in allowed else _NONE
            )
            codes.append(code)
            rhyme.append(line in variant.rhyme_lines and pos == len(variant.lines[line]) - 1)
        pad = self.n_variants - len(codes)
        return codes + [_NONE] * pad, rhyme + [False] * pad

    def _update(self, last: torch.Tensor, step: int) -> None:
        m = self.masks
        for b, row in enumerate(self.rows):
            if row.failed or step >= len(row.layout):
                continue
            kind = row.layout[step][0]
            tok = int(last[b])
            if kind != _KIND_CHAR:
                row.line_tones = []
                row.prev_char = row.prev_prev_char = None
                continue
            tones = m.tones[tok]
            forced = row.layout[step][1] < len(row.spec.prefix)
            tok_groups = m.groups_of[tok] if forced else m.rhyme_groups_of[tok]
            for v, (code, is_rhyme) in enumerate(zip(row.last_codes, row.last_rhyme, strict=True)):
                if not row.alive[v] or forced:  # the user's own characters: the variant was fitted to them
                    continue
                ok = (code == _ANY and bool(tones)) or (code == _PING and Tone.PING in tones) or (
                    code == _ZE and Tone.ZE in tones
                )
                if is_rhyme:
                    ok = ok and bool(tok_groups & row.groups)
                row.alive[v] = ok
            if any(r and row.alive[v] for v, r in enumerate(row.last_rhyme)) and (
                not forced or row.groups & tok_groups
            ):
                row.groups &= tok_groups  # a given rhyme outside every group leaves the choice open
            self.used[b, m.canonical_of[tok]] = True
            self.bias[b, m.canonical_of[tok]] = 0.0  # a topic character is favoured once, not doubled
            if row.season == len(SEASONS):
                row.season = m.season_of[tok]  # the first seasonal character (the user's too) sets the season
            row.line_tones.append(tones)
            row.prev_prev_char, row.prev_char = row.prev_char, tok

    def _allowed(self, step: int) -> torch.Tensor:
        m = self.masks
        B, V = len(self.rows), m.vocab_size
        allowed = torch.zeros(B, V, dtype=torch.bool)
        char_rows, codes, rhymes = [], [], []
        for b, row in enumerate(self.rows):
            if row.failed or step >= len(row.layout):
                allowed[b, m.pad_id] = True
                allowed[b, m.eos_id] = True
                continue
            kind, a, pos = row.layout[step]
            if kind == _KIND_PUNCT:
                allowed[b, a] = True
            elif kind == _KIND_EOS:
                allowed[b, m.eos_id] = True
            else:
                c, r = self._requirements(b, a, pos)
                row.last_codes, row.last_rhyme = c, r
                char_rows.append(b)
                codes.append(c)
                rhymes.append(r)
        if char_rows:
            idx = torch.tensor(char_rows)
            code_t = torch.tensor(codes)  # (R, NV)
            rhyme_t = torch.tensor(rhymes)  # (R, NV)
            tone_ok = m.tone_table[code_t]  # (R, NV, V)
            groups = torch.zeros(len(char_rows), self.n_groups)
            alive = torch.tensor([self.rows[b].alive for b in char_rows])  # (R, NV)
            for j, b in enumerate(char_rows):
                groups[j, list(self.rows[b].groups)] = 1.0
            rhyme_ok = (groups @ m.group_mask_f) > 0  # (R, V)
            ok = tone_ok & (~rhyme_t.unsqueeze(-1) | rhyme_ok.unsqueeze(1))  # (R, NV, V)
            tone_allowed = (ok & alive.unsqueeze(-1)).any(1)  # (R, V)
            canon_used = self.used[idx][:, m.canonical]  # (R, V): same character written before
            char_ok = tone_allowed & (~canon_used | self._dieci(char_rows, V))
            for j, b in enumerate(char_rows):
                row = self.rows[b]
                _, line, pos = row.layout[step]
                if line < len(row.spec.prefix):
                    only = torch.zeros(V, dtype=torch.bool)
                    only[m.id_of[row.spec.prefix[line][pos]]] = True
                    char_ok[j] = only  # written as given, whatever the chart says
                elif row.spec.heads and pos == 0:
                    only = torch.zeros(V, dtype=torch.bool)
                    only[m.id_of[row.spec.heads[line]]] = True
                    char_ok[j] = tone_allowed[j] & only  # heads may repeat: the user chose them
                else:
                    char_ok[j] &= ~self.reserved[b]
            allowed[idx] = char_ok
        return allowed

    def _dieci(self, rows: list[int], V: int) -> torch.Tensor:
        """(R, V) exemption from the no-repeat rule for 叠字: the previous character, once."""
        out = torch.zeros(len(rows), V, dtype=torch.bool)
        for j, b in enumerate(rows):
            row = self.rows[b]
            policy = row.spec.repeat
            if policy == "any":
                out[j] = True
            elif policy == "dieci" and row.prev_char is not None and row.prev_char != row.prev_prev_char:
                out[j, row.prev_char] = True
        return out

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        step = input_ids.shape[1] - self.prompt_length
        if step < 0:
            raise ValueError(f"input is shorter ({input_ids.shape[1]}) than the prompt ({self.prompt_length})")
        if step != self._next_step:
            # Calling twice for one step (or skipping one) would silently corrupt the per-row state.
            raise ValueError(
                f"expected generation step {self._next_step}, got {step}: this processor is stateful and must "
                "see every step exactly once (sampling or greedy; not beam search or assisted decoding)"
            )
        self._next_step = step + 1
        if step > 0:
            self._update(input_ids[:, -1].cpu(), step - 1)
        allowed = self._allowed(step)
        empty = ~allowed.any(-1)
        if bool(empty.any()):
            if self.strict:
                raise ValueError(f"rows {empty.nonzero().flatten().tolist()} have no allowed token at step {step}")
            for b in empty.nonzero().flatten().tolist():
                self.rows[b].failed = True
                allowed[b, self.masks.eos_id] = True
        allowed = allowed.to(scores.device)
        masked = scores.masked_fill(~allowed, float("-inf"))
        best = masked.max(-1, keepdim=True).values  # (B, 1)
        plausible = masked >= best - self.topic_margin  # (B, V): the LM's own shortlist
        out = masked + self.bias.to(scores.device, scores.dtype) * plausible
        if self.season_penalty:
            seasons = torch.tensor([len(SEASONS) if r.season < 0 else r.season for r in self.rows])
            off = self.masks.off_season[seasons].to(scores.device)  # (B, V)
            out = out - self.season_penalty * off.to(scores.dtype)
        return out  # type: ignore[return-value]
