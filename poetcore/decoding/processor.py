"""格律 as a [`LogitsProcessor`]: every sampled poem obeys its form by construction.

Design: the poem body has a fixed layout (characters, then ， or 。 after each line, then EOS), so the
number of generated tokens tells each row where it is. Per row we track

* which form variants (平起/仄起 × 首句入韵/不入韵) are still consistent with what was written,
* the tones of the current line (for 孤平 / 三平尾 / 三仄尾 look-ahead, from ``forms.allowed_tones``),
* per rhyme set, the rhyme classes still possible (fixed by the set's first rhyme character, or by the
  user): a 平水韵 group for a 诗 (平声, or 仄声 for a 仄韵 绝句), a 词林正韵 部 for a 词, whose 换韵
  sets (菩萨蛮) each keep their own,
* which characters were used (no repeats except 叠字, and a 词's 叠句, copied from the line it echoes).

All of it is tensors, one row per candidate, so a step costs the same few dozen tensor ops at batch
8 or 512 (on the GPU nothing leaves the device): the chart with its look-ahead is a table per line
pattern indexed by the line's tone history (`pattern_codes`), vocabulary facts are precomputed
masks (tone classes, rhyme groups, seasons), and Python runs only when the processor is built
(once per distinct spec).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from transformers import LogitsProcessor

from poetcore.decoding.masks import RHYME_FILTERS, VocabMasks, device_masks, guard_tensor
from poetcore.decoding.spec import (
    CODE_NONE,
    FORCE_ECHO,
    FORCE_HEAD,
    FORCE_NONE,
    FORCE_PREFIX,
    KIND_CHAR,
    KIND_DONE,
    KIND_EOS,
    KIND_PUNCT,
    PoemSpec,
    body_layout,
    feasible_variants,
    pattern_codes,
    position_codes,
)
from poetcore.errors import PoetcoreInputError
from poetcore.lexicon.copyguard import HASH_BASE, HASH_MOD, CorpusLines
from poetcore.lexicon.seasons import SEASONS
from poetcore.prosody.forms import FormTemplate
from poetcore.prosody.rhymes import Tone
from poetcore.request import REPEAT_POLICIES

__all__ = ["MIN_RHYME_GROUP_SIZE", "PoemConstraintLogitsProcessor", "replay"]

MIN_RHYME_GROUP_SIZE = 12
"""平声 groups with fewer usable characters in the vocabulary are only used when asked for by name:
a narrow group (e.g. 三江) can run out of unused characters before the last rhyme line."""


@dataclass
class _SpecPlan:
    """Everything about one spec that does not change while decoding, as tensors (built once per spec)."""

    kind: torch.Tensor  # (S,) _KIND_* per step
    line: torch.Tensor  # (S,)
    pos: torch.Tensor  # (S,)
    token: torch.Tensor  # (S,) punctuation id, forced character id, else -1
    force: torch.Tensor  # (S,) _FORCE_*
    patterns: torch.Tensor  # (NV, L) index into the processor's pattern table (0: the dead pattern)
    rhyme_set: torch.Tensor  # (NV, S) the rhyme set a step's character rhymes in, -1: not a rhyme position
    rhyme_filter: torch.Tensor  # (NV, S) index into RHYME_FILTERS: the classes that position draws on
    echo: torch.Tensor  # (S,) the step whose token a 叠句 step repeats, else -1
    alive: torch.Tensor  # (NV,) feasible variants
    groups: torch.Tensor  # (K, C) rhyme classes still possible, per rhyme set
    repeat: int  # 0 none, 1 dieci, 2 any
    season: int


def _filter_of(form: FormTemplate, set_tone: str, mark: str) -> int:
    """The kind of rhyme position (index into `RHYME_FILTERS`): a 诗 rhymes in its 平水韵 groups of the
    form's tone; a 词 in its 部, in the tone the chart marks there (叶 lines of the other tone), else the set's."""
    if not form.is_ci:
        return RHYME_FILTERS.index("平" if set_tone == Tone.PING.value else "仄")
    if set_tone == "入":
        return RHYME_FILTERS.index("词入")
    tone = mark if mark in ("平", "仄") else set_tone
    return RHYME_FILTERS.index(f"词{tone}")


def _or_over(codes: torch.Tensor) -> torch.Tensor:
    """Bitwise OR of (B, NV) tone codes over the variants: (B,)."""
    out = codes[:, 0]
    for v in range(1, codes.shape[1]):  # at most 4 variants: a fixed, batch-independent loop
        out = out | codes[:, v]
    return out


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
        topic_opening (`bool`, *optional*, defaults to `True`):
            Whether a topic character may be the poem's first character. Beam search with the topic
            bias opened 19 of 20 七绝 with the topic itself (早行上马…, 山寺云深…), real 七绝 1 in 80:
            readers name it as a tell.
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
        num_beams: int = 1,
        copy_guard: CorpusLines | None = None,
        topic_opening: bool = True,
    ) -> None:
        if not specs:
            raise ValueError("specs must name at least one row")
        if num_beams < 1:
            raise ValueError(f"num_beams must be >= 1, got {num_beams}")
        if prompt_length < 0:
            raise ValueError(f"prompt_length must be >= 0, got {prompt_length}")
        if not math.isfinite(topic_bias):
            raise ValueError(f"topic_bias must be a finite number, got {topic_bias!r}")
        if not (math.isfinite(topic_margin) and topic_margin >= 0):
            raise ValueError(f"topic_margin must be a finite number >= 0, got {topic_margin!r}")
        if not (math.isfinite(season_penalty) and season_penalty >= 0):
            raise ValueError(f"season_penalty must be a finite number >= 0, got {season_penalty!r}")
        self.masks = masks
        self.table = masks.table
        self.prompt_length = prompt_length
        self.strict = strict
        self.topic_margin = topic_margin
        self.season_penalty = season_penalty
        self.topic_opening = topic_opening
        self.specs = list(specs)
        self.n_variants = max(len(s.form.variants) for s in specs)
        self.n_groups = len(masks.rhyme_classes)
        self.n_sets = max([1, *(len(v.rhyme_groups) for s in specs for v in s.form.variants)])
        self.max_new_tokens = max(sum(s.form.line_lengths) + s.form.n_lines + 1 for s in specs)
        # Pattern 0 is "dead": every code CODE_NONE. The others are the line patterns in use, with the
        # rules that bind them (a 诗's cross-position rules; none for a 词 or a 古绝).
        self._pattern_index: dict[tuple[str, frozenset[str]], int] = {}
        plans: dict[int, tuple[_SpecPlan, list[int], list[int]]] = {}
        rows: list[int] = []
        for spec in specs:
            if id(spec) not in plans:
                plans[id(spec)] = self._plan(spec)
            rows.append(id(spec))
        self._build_state(specs, [plans[r] for r in rows], topic_bias)
        self._next_step = 0  # the state follows generation one token at a time
        self._ids: torch.Tensor | None = None  # the rows so far (a 叠句 copies from them)
        # Copies: the hashes of the corpus lines, sorted, searched at each line's last character.
        self.copy_guard = copy_guard if copy_guard is not None and len(copy_guard) else None
        # Beam search runs num_beams rows per spec (HF expands each input row in place) and reorders
        # them every step; the state follows by matching each row's prefix to last step's rows.
        self.num_beams = num_beams
        self._seen: torch.Tensor | None = None
        if num_beams > 1:
            self._select(torch.arange(len(self.specs)).repeat_interleave(num_beams))

    # -- the static plan of one spec ------------------------------------------------------------
    def _plan(self, spec: PoemSpec) -> tuple[_SpecPlan, list[int], list[int]]:
        """The spec's tensors, plus its reserved (head) and favoured (topic) token ids."""
        m = self.masks
        feasible = feasible_variants(spec, self.table)
        if not feasible:
            raise PoetcoreInputError(
                "heads_conflict", "藏头字的声调与所有格律变体都冲突。", "The head characters fit no tonal variant."
            )
        for ch in "".join(spec.prefix):
            if ch not in m.id_of:
                raise PoetcoreInputError(
                    "prefix_not_in_vocab", f"“{ch}”不在模型字表中，无法续写这句。",
                    f"{ch!r} is not in the model's vocabulary, so this line cannot be continued.",
                )
        reserved = []
        for h in spec.heads or ():
            hid = m.id_of.get(h)
            if hid is None:
                raise PoetcoreInputError(
                    "head_not_in_vocab", f"藏头字“{h}”不在模型字表中，请换一个字。",
                    f"Head character {h!r} is not in the model's vocabulary; pick another.",
                )
            reserved.append(hid)
        groups = self._initial_groups(spec)
        layout = body_layout(spec.form, m.comma_id, m.period_id)
        S = self.max_new_tokens + 1  # the last column stays KIND_DONE: every later step reads it
        kind = torch.full((S,), KIND_DONE, dtype=torch.long)
        line = torch.zeros(S, dtype=torch.long)
        pos = torch.zeros(S, dtype=torch.long)
        token = torch.full((S,), -1, dtype=torch.long)
        force = torch.zeros(S, dtype=torch.long)
        for step, (k, a, p) in enumerate(layout):
            kind[step] = k
            if k == KIND_CHAR:
                line[step], pos[step] = a, p
                if a < len(spec.prefix):
                    token[step], force[step] = m.id_of[spec.prefix[a][p]], FORCE_PREFIX
                elif spec.heads and p == 0:
                    token[step], force[step] = m.id_of[spec.heads[a]], FORCE_HEAD
            elif k == KIND_PUNCT:
                token[step] = a
        step_of = {(a, p): step for step, (k, a, p) in enumerate(layout) if k == KIND_CHAR}
        echo = torch.full((S,), -1, dtype=torch.long)
        for line_no, source in spec.form.variants[0].echoes:
            n, m_src = spec.form.line_lengths[line_no], spec.form.line_lengths[source]
            for p in range(n):
                echo[step_of[(line_no, p)]] = step_of[(source, m_src - n + p)]
                force[step_of[(line_no, p)]] = FORCE_ECHO
        NV, L = self.n_variants, max(len(v.lines) for s in self.specs for v in s.form.variants)
        patterns = torch.zeros(NV, L, dtype=torch.long)
        rhyme_set = torch.full((NV, S), -1, dtype=torch.long)
        rhyme_filter = torch.zeros(NV, S, dtype=torch.long)
        for v, variant in enumerate(spec.form.variants):
            for li, pattern in enumerate(variant.lines):
                patterns[v, li] = self._pattern_index.setdefault((pattern, spec.form.rules), len(self._pattern_index) + 1)
            for k_set, group in enumerate(variant.rhyme_groups):
                for li in group.lines:
                    step = step_of[(li, len(variant.lines[li]) - 1)]
                    rhyme_set[v, step] = k_set
                    rhyme_filter[v, step] = _filter_of(spec.form, group.tone, variant.lines[li][-1])
        alive = torch.tensor([v in feasible for v in range(NV)], dtype=torch.bool)
        favoured = [tid for ch in dict.fromkeys(spec.topic)
                    if (tid := m.id_of.get(ch)) is not None and bool(m.known[tid])]
        plan = _SpecPlan(kind, line, pos, token, force, patterns, rhyme_set, rhyme_filter, echo, alive, groups,
                         REPEAT_POLICIES.index(spec.repeat), self._topic_season(spec.topic))
        return plan, reserved, favoured

    def _initial_groups(self, spec: PoemSpec) -> torch.Tensor:
        """(K, C): each rhyme set's possible classes before anything is written: the user's choice, or
        every class of the set's kind wide enough not to run dry (a narrow group only when asked for)."""
        m = self.masks
        out = torch.zeros(self.n_sets, self.n_groups, dtype=torch.bool)
        variant = spec.form.variants[0]
        for k, group in enumerate(variant.rhyme_groups):
            family = m.filters[_filter_of(spec.form, group.tone, "中")]
            # With a prefix the user's rhyme decides, even in a narrow group.
            wide = family.clone() if spec.prefix else family & (m.group_sizes >= MIN_RHYME_GROUP_SIZE)
            if spec.rhyme_gid is not None and k == 0:
                chosen = torch.zeros(self.n_groups, dtype=torch.bool)
                names = [c for c in m.rhyme_classes if c == spec.rhyme_gid
                         or (spec.rhyme_gid.startswith("部") and c[:-1] == spec.rhyme_gid)]
                if not names:
                    raise ValueError(f"rhyme {spec.rhyme_gid!r} is not a rhyme class of the decoder")
                for c in names:
                    chosen[m.group_index[c]] = True
                if not bool((chosen & family).any()):
                    raise ValueError(f"rhyme {spec.rhyme_gid!r} does not fit a {group.tone} rhyme of {spec.form.name}")
                wide = chosen
            # A 词 set holds its 部 in every tone (叶 lines of the other tone read the same 部).
            out[k] = (wide.float() @ m.siblings.float()) > 0 if spec.form.is_ci else wide
        return out

    def _build_state(self, specs: Sequence[PoemSpec], plans: list[tuple[_SpecPlan, list[int], list[int]]],
                     topic_bias: float) -> None:
        B, V = len(specs), self.masks.vocab_size
        p = [plan for plan, _, _ in plans]
        self.kind = torch.stack([x.kind for x in p])  # (B, S)
        self.line = torch.stack([x.line for x in p])
        self.pos = torch.stack([x.pos for x in p])
        self.token = torch.stack([x.token for x in p])
        self.force = torch.stack([x.force for x in p])
        self.patterns = torch.stack([x.patterns for x in p])  # (B, NV, L)
        self.rhyme_set = torch.stack([x.rhyme_set for x in p])  # (B, NV, S)
        self.is_rhyme = self.rhyme_set >= 0  # (B, NV, S)
        self.rhyme_filter = torch.stack([x.rhyme_filter for x in p])  # (B, NV, S)
        self.echo = torch.stack([x.echo for x in p])  # (B, S)
        self.alive = torch.stack([x.alive for x in p])  # (B, NV) variants still consistent
        self.groups = torch.stack([x.groups for x in p])  # (B, K, C) rhyme classes still possible, per set
        self.repeat = torch.tensor([x.repeat for x in p], dtype=torch.long)  # (B,)
        self.season = torch.tensor([x.season for x in p], dtype=torch.long)  # (B,) -1: rule off; 4: none yet
        self.used = torch.zeros(B, V, dtype=torch.bool)  # (B, V) canonical ids already written
        self.rhymed = torch.zeros(B, V, dtype=torch.bool)  # (B, V) canonical ids written at a rhyme position
        self.reserved = torch.zeros(B, V, dtype=torch.bool)  # (B, V) head chars: only at head positions
        self.bias = torch.zeros(B, V)  # (B, V)
        self.topical = torch.zeros(B, V, dtype=torch.bool)  # (B, V) the topic's own characters
        for b, (_, reserved, favoured) in enumerate(plans):
            self.reserved[b, reserved] = True
            self.bias[b, favoured] = topic_bias
            self.topical[b, favoured] = True
        self.value = torch.zeros(B, dtype=torch.long)  # (B,) tone history of the current line, base 3
        self.prev = torch.full((B,), -1, dtype=torch.long)  # last character of the line (-1: none)
        self.prev2 = torch.full((B,), -1, dtype=torch.long)
        self.last_codes = torch.zeros(B, self.n_variants, dtype=torch.long)  # requirement codes of the last step
        self._failed = torch.zeros(B, dtype=torch.bool)
        self.line_hash = torch.zeros(B, dtype=torch.long)  # (B,) copyguard hash of the current line so far
        # The last character of each line: the step before a punctuation mark.
        self.line_end = (self.kind == KIND_CHAR) & (torch.roll(self.kind, -1, 1) == KIND_PUNCT)
        self.line_end[:, -1] = False
        # Patterns under 诗 rules read the line's tone history (a table per pattern, `pattern_codes`);
        # rule-free ones (词, 古绝) only the position (`position_codes`): a 词 line of 11 characters
        # would need 88,573 history states for nothing.
        ruled = [(pat, k) for (pat, rules), k in self._pattern_index.items() if rules]
        longest = max((len(pat) for pat, _ in ruled), default=1)
        widest = max((len(pat) for pat, _ in self._pattern_index), default=1)
        n_states = (3**longest - 1) // 2
        P = len(self._pattern_index) + 1
        codes = torch.zeros(P, n_states, dtype=torch.long)  # row 0: dead
        self.free = torch.zeros(P, dtype=torch.bool)  # (P,) patterns read by position only
        self.pos_codes = torch.zeros(P, widest, dtype=torch.long)  # (P, Lmax)
        for (pattern, rules), k in self._pattern_index.items():
            if rules:
                flat = pattern_codes(pattern)
                codes[k, : len(flat)] = torch.tensor(flat, dtype=torch.long)
            else:
                self.free[k] = True
                self.pos_codes[k, : len(pattern)] = torch.tensor(position_codes(pattern), dtype=torch.long)
        self.codes = codes
        self.offsets = torch.tensor([(3**k - 1) // 2 for k in range(max(longest, widest))], dtype=torch.long)
        self.n_states = n_states
        self.device = torch.device("cpu")
        # Which steps need which work, known before decoding starts (no device sync per step).
        self._any_char = (self.kind == KIND_CHAR).any(0).tolist()
        self._any_rhyme = self.is_rhyme.any(1).any(0).tolist()
        self._any_forced = (self.force != FORCE_NONE).any(0).tolist()
        self._any_line_end = self.line_end.any(0).tolist()

    _ROW_STATE = ("kind", "line", "pos", "token", "force", "patterns", "rhyme_set", "is_rhyme", "rhyme_filter", "echo",
                  "alive", "groups", "repeat",
                  "season", "used", "rhymed", "reserved", "bias", "topical", "value", "prev", "prev2", "last_codes", "_failed",
                  "line_hash", "line_end")
    """Every tensor with one row per sequence: what a beam reorder must carry along."""

    def _select(self, rows: torch.Tensor) -> None:
        """Make row i a copy of row ``rows[i]`` (beam expansion and reordering)."""
        rows = rows.to(self.device)
        for name in self._ROW_STATE:
            setattr(self, name, getattr(self, name).index_select(0, rows))
        self.specs = [self.specs[i] for i in rows.tolist()]

    def _follow(self, input_ids: torch.Tensor) -> None:
        """Beam search reordered the rows: find, within each spec's block of beams, the row of the last
        step that each row extends. Equal prefixes have equal states, so any match is the right one."""
        R, L = input_ids.shape
        K = self.num_beams
        assert self._seen is not None and self._seen.shape == (R, L - 1)
        now = input_ids[:, :-1].reshape(R // K, K, 1, L - 1)
        before = self._seen.reshape(R // K, 1, K, L - 1)
        same = (now == before).all(-1)  # (blocks, K, K)
        if not bool(same.any(-1).all()):
            raise ValueError("a beam extends none of the last step's beams of its spec: not HF beam search order")
        src = same.int().argmax(-1) + torch.arange(0, R, K, device=input_ids.device).unsqueeze(1)
        self._select(src.flatten())

    def _to(self, device: torch.device) -> None:
        """Move the state next to the scores once (on a GPU nothing crosses the bus per step)."""
        for name, value in list(vars(self).items()):
            if isinstance(value, torch.Tensor):
                setattr(self, name, value.to(device))
        self.device = device
        self._dev = device_masks(self.masks, device)

    def _topic_season(self, topic: str) -> int:
        found = {self.masks.season_of[i] for ch in topic if (i := self.masks.id_of.get(ch)) is not None}
        found.update(k for i in range(len(topic) - 1) if (k := self.masks.season_word_of.get(topic[i : i + 2])) is not None)
        found.discard(len(SEASONS))
        if len(found) > 1:
            return -1
        return found.pop() if found else len(SEASONS)

    @property
    def failed(self) -> list[bool]:
        return [bool(x) for x in self._failed.tolist()]

    def alive_variants(self, b: int) -> list[int]:
        n = len(self.specs[b].form.variants)
        return [v for v, ok in enumerate(self.alive[b].tolist()[:n]) if ok]

    def rhyme_groups(self, b: int, k: int = 0) -> list[str]:
        """The rhyme classes rhyme set ``k`` of row ``b`` may still take (names of ``masks.rhyme_classes``)."""
        return [self.masks.rhyme_classes[g] for g in self.groups[b, k].nonzero().flatten().tolist()]

    def _set_at(self, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        """(B,) rhyme set and (B,) filter of each row at ``step``, read from its alive variants (one
        variant of a 诗 rhymes where another does not: its first line; their sets agree)."""
        here = self.is_rhyme[:, :, step] & self.alive  # (B, NV)
        k = torch.where(here, self.rhyme_set[:, :, step], -1).max(1).values
        f = torch.where(here, self.rhyme_filter[:, :, step], 0).max(1).values
        return k.clamp(min=0), f

    def _current_classes(self, k: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
        """(B, C): the classes a rhyme character may take now: its set's, of the position's kind."""
        rows = torch.arange(self.groups.shape[0], device=self.device)
        return self.groups[rows, k] & self._dev.filters[f]

    # -- per-step bookkeeping: tensor ops only, whatever the batch size -------------------------
    def _update(self, last: torch.Tensor, step: int) -> None:
        """Fold the token each row just wrote into its state."""
        d = self._dev
        kind = self.kind[:, step]
        live = ~self._failed & (kind != KIND_DONE)
        char = live & (kind == KIND_CHAR)
        # The user's own characters (the variant was fitted to them) and a 叠句's copies are given.
        forced = (self.force[:, step] == FORCE_PREFIX) | (self.force[:, step] == FORCE_ECHO)
        ok = self.tone_ok_of(last)  # (B, NV)
        tok_groups = torch.where(forced.unsqueeze(1), d.full_groups[last], d.rhyme_groups[last])  # (B, C)
        k, f = self._set_at(step)
        rows_all = torch.arange(self.groups.shape[0], device=self.device)
        current = self._current_classes(k, f)  # (B, C)
        hits = (tok_groups & current).any(1)  # (B,)
        was_rhyme = self.is_rhyme[:, :, step]  # (B, NV)
        ok = ok & (~was_rhyme | hits.unsqueeze(1))
        self.alive = torch.where((char & ~forced).unsqueeze(1), self.alive & ok, self.alive)
        at_rhyme = (was_rhyme & self.alive).any(1)  # a variant still alive rhymes here
        # A given rhyme outside every class leaves the choice open.
        rhymed = char & at_rhyme & (~forced | hits)
        narrowed = tok_groups & current
        # The user's later rhyme line outside the class so far: it decides, because only the first line
        # may borrow a neighbouring group (首句借邻韵); an odd first line stays a licence.
        overrule = char & forced & ~hits & (self.line[:, step] > 0) & at_rhyme & (tok_groups & d.filters[f]).any(1)
        narrowed = torch.where(overrule.unsqueeze(1), tok_groups & d.filters[f], narrowed)
        # A 词 set keeps the 部 in every tone: the siblings of what was written (a 诗 class is only itself).
        widened = (narrowed.float() @ d.siblings_f) > 0  # (B, C)
        update = rhymed | overrule
        new_set = torch.where(update.unsqueeze(1), widened & (self.groups[rows_all, k] | overrule.unsqueeze(1)),
                              self.groups[rows_all, k])
        self.groups = self.groups.clone()
        self.groups[rows_all, k] = new_set
        rows = char.nonzero().flatten()
        canon = d.canonical[last[rows]]
        self.used[rows, canon] = True
        at_rhyme = (char & was_rhyme.any(1)).nonzero().flatten()
        self.rhymed[at_rhyme, d.canonical[last[at_rhyme]]] = True
        self.bias[rows, canon] = 0.0  # a topic character is favoured once, not doubled
        unseasoned = char & (self.season == len(SEASONS))
        self.season = torch.where(unseasoned, d.season_of[last], self.season)  # the first seasonal character
        if d.season_words.shape[1]:  # ... or word (东风: two characters of no season each)
            first, second, word_season = d.season_words
            word = (first == self.prev.unsqueeze(1)) & (second == last.unsqueeze(1))  # (B, E)
            found = torch.where(word, word_season, len(SEASONS)).min(1).values
            self.season = torch.where(char & (self.season == len(SEASONS)), found, self.season)
        cls = d.tone_class[last].clamp(max=2)  # an unknown tone (a user's character) counts as either
        self.value = torch.where(char, self.value * 3 + cls, torch.where(live, 0, self.value))
        self.line_hash = torch.where(char, (self.line_hash * HASH_BASE + d.codepoint[last]) % HASH_MOD,
                                     torch.where(live, 0, self.line_hash))
        self.prev2 = torch.where(char, self.prev, torch.where(live, -1, self.prev2))
        self.prev = torch.where(char, last, torch.where(live, -1, self.prev))

    def tone_ok_of(self, last: torch.Tensor) -> torch.Tensor:
        """(B, NV): whether each row's last token met the requirement code of its step, per variant."""
        return self._dev.tone_table[self.last_codes, last.unsqueeze(1)]

    def _allowed(self, step: int) -> torch.Tensor:
        d, m = self._dev, self.masks
        B, V = self.kind.shape[0], m.vocab_size
        dev = self.device
        kind = self.kind[:, step]
        done = self._failed | (kind == KIND_DONE)
        char = ~done & (kind == KIND_CHAR)
        allowed = torch.zeros(B, V, dtype=torch.bool, device=dev)
        allowed[done, m.pad_id] = True
        allowed[done, m.eos_id] = True
        allowed[~done & (kind == KIND_EOS), m.eos_id] = True
        punct = (~done & (kind == KIND_PUNCT)).nonzero().flatten()
        allowed[punct, self.token[punct, step]] = True
        if not self._any_char[step]:
            return allowed
        line = self.line[:, step]
        pattern = self.patterns.gather(2, line.view(B, 1, 1).expand(B, self.n_variants, 1)).squeeze(2)  # (B, NV)
        value = torch.where(char, self.value, 0)  # failed and finished rows keep a stale history
        position = self.pos[:, step]
        state = (self.offsets[position] + value).clamp(max=self.n_states - 1).unsqueeze(1).expand(B, self.n_variants)
        by_history = self.codes[pattern, state]  # (B, NV)
        by_position = self.pos_codes[pattern, position.clamp(max=self.pos_codes.shape[1] - 1).unsqueeze(1)]
        codes = torch.where(self.alive, torch.where(self.free[pattern], by_position, by_history), CODE_NONE)  # (B, NV)
        self.last_codes = torch.where(char.unsqueeze(1), codes, self.last_codes)
        # Codes are tone bit sets (平 = 1, 仄 = 2), so "some variant allows it" is a bitwise OR over
        # the variants: one (B, V) lookup per kind of position instead of a (B, NV, V) one.
        rhyme = self.is_rhyme[:, :, step]  # (B, NV)
        plain_code = _or_over(torch.where(rhyme, 0, codes))
        tone_allowed = d.tone_table[plain_code]  # (B, V)
        if self._any_rhyme[step]:
            rhyme_code = _or_over(torch.where(rhyme, codes, 0))
            k, f = self._set_at(step)
            rhyme_ok = (self._current_classes(k, f).float() @ d.group_mask_f) > 0  # (B, V)
            # No 重韵, whatever the repeat policy: a rhyme character rhymes once (repeat=any included).
            rhyme_ok &= ~self.rhymed.gather(1, d.canonical.expand(B, V))
            tone_allowed = tone_allowed | (d.tone_table[rhyme_code] & rhyme_ok)
        # No repeats: a character written before is blocked, except 叠字 (the previous one, once)
        # and repeat=any; head characters only stand at head positions.
        blocked = self.used.gather(1, d.canonical.expand(B, V)) & (self.repeat != 2).unsqueeze(1)
        # No 叠字 of a topic character (冬冬, 西西, 花花 read as artifacts of the topic, not as words).
        prev_topical = self.topical.gather(1, self.prev.clamp(min=0).unsqueeze(1)).squeeze(1)
        dieci = ((self.repeat == 1) & (self.prev >= 0) & (self.prev != self.prev2) & ~prev_topical
                 & d.dieci_ok[self.prev.clamp(min=0)]).nonzero().flatten()
        blocked[dieci, self.prev[dieci]] = False
        char_ok = tone_allowed & ~blocked & ~self.reserved
        if step == 0 and not self.topic_opening:
            char_ok &= ~self.topical  # the poem does not open on its topic (heads and given lines are forced below)
        if self.copy_guard is not None and self._any_line_end[step]:
            # No line equal to a corpus line: mask the last characters that would complete one. Only
            # characters the chart still allows are looked up (a rhyme group, not the whole vocabulary).
            guard = guard_tensor(self.copy_guard, dev)
            ends = (char & self.line_end[:, step]).nonzero().flatten()
            rows, cols = char_ok[ends].nonzero(as_tuple=True)
            want = (self.line_hash[ends[rows]] * HASH_BASE + d.codepoint[cols]) % HASH_MOD
            at = torch.searchsorted(guard, want).clamp(max=guard.numel() - 1)
            copy = guard[at] == want
            char_ok[ends[rows[copy]], cols[copy]] = False
        if self._any_forced[step]:
            force = self.force[:, step]
            only = torch.zeros(B, V, dtype=torch.bool, device=dev)
            forced_rows = (force != FORCE_NONE).nonzero().flatten()
            token = self.token[forced_rows, step]
            echoes = self.echo[forced_rows, step]
            if self._ids is not None and bool((echoes >= 0).any()):
                # A 叠句 repeats the token this row wrote at its source step.
                written = self._ids[forced_rows, (self.prompt_length + echoes).clamp(max=self._ids.shape[1] - 1)]
                token = torch.where(echoes >= 0, written, token)
            only[forced_rows, token] = True
            given = (force == FORCE_PREFIX) | (force == FORCE_ECHO)
            char_ok = torch.where(given.unsqueeze(1), only, char_ok)  # as given, whatever the chart
            char_ok = torch.where((force == FORCE_HEAD).unsqueeze(1), tone_allowed & only, char_ok)  # heads may repeat
        return torch.where(char.unsqueeze(1), char_ok, allowed)

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        step = input_ids.shape[1] - self.prompt_length
        if step < 0:
            raise ValueError(f"input is shorter ({input_ids.shape[1]}) than the prompt ({self.prompt_length})")
        if step != self._next_step:
            # Calling twice for one step (or skipping one) would silently corrupt the per-row state.
            raise ValueError(
                f"expected generation step {self._next_step}, got {step}: this processor is stateful and must "
                "see every step exactly once (sampling, greedy or beam search; not assisted decoding)"
            )
        if input_ids.shape[0] != self.kind.shape[0]:
            raise ValueError(f"{input_ids.shape[0]} rows, but the processor holds {self.kind.shape[0]} "
                             f"({len(self.specs) // self.num_beams} specs x {self.num_beams} beams)")
        if self.device != scores.device or step == 0:
            self._to(scores.device)
        self._next_step = step + 1
        self._ids = input_ids.to(self.device)
        if self.num_beams > 1:
            if step > 0:
                self._follow(input_ids)
            self._seen = input_ids
        last_col = self.kind.shape[1] - 1
        if step > 0:
            self._update(input_ids[:, -1].to(self.device), min(step - 1, last_col))
        allowed = self._allowed(min(step, last_col))
        empty = ~allowed.any(-1)
        if bool(empty.any()):
            if self.strict:
                raise ValueError(f"rows {empty.nonzero().flatten().tolist()} have no allowed token at step {step}")
            self._failed |= empty
            allowed[empty, self.masks.eos_id] = True
        masked = scores.masked_fill(~allowed, float("-inf"))
        best = masked.max(-1, keepdim=True).values  # (B, 1)
        plausible = masked >= best - self.topic_margin  # (B, V): the LM's own shortlist
        bias = self.bias
        if not self.topic_opening:
            bias = bias * (self.line[:, min(step, last_col)] > 0).unsqueeze(1)  # the topic enters after the opening line
        out = masked + bias.to(scores.dtype) * plausible
        if self.season_penalty:
            d = self._dev
            seasons = torch.where(self.season < 0, len(SEASONS), self.season)
            off = d.off_season[seasons]  # (B, V)
            if d.season_words.shape[1]:
                # The second character of a word of another season, right after its first (西风 in spring).
                first, second, word_season = d.season_words
                known = (seasons < len(SEASONS)).unsqueeze(1)
                rows, words = ((first == self.prev.unsqueeze(1)) & (word_season != seasons.unsqueeze(1)) & known).nonzero(
                    as_tuple=True)
                off = off.clone()
                off[rows, second[words]] = True
            out = out - self.season_penalty * off.to(scores.dtype)
        return out  # type: ignore[return-value]


def replay(proc: PoemConstraintLogitsProcessor, sequences: torch.Tensor) -> PoemConstraintLogitsProcessor:
    """Fold finished ``sequences`` (prompt + generated, one row per spec of a fresh ``proc``) into the
    processor's state, as if it had generated them: how beam search's returned beams get their rhyme
    group, variant and failure flags."""
    if sequences.shape[0] != proc.kind.shape[0]:
        raise ValueError(f"{sequences.shape[0]} sequences for a processor of {proc.kind.shape[0]} rows")
    scores = torch.zeros(sequences.shape[0], proc.masks.vocab_size, device=sequences.device)
    for end in range(proc.prompt_length, sequences.shape[1]):
        proc(sequences[:, :end], scores)  # type: ignore[arg-type]
    return proc
