"""Vocabulary masks: what every token of the tokenizer can be (tone, rhyme groups, season, 叠字).

Computed once per (tokenizer, rhyme table, lexicons) and cached; `DeviceMasks` holds the tensors one
decoding step reads, copied once per device. Only tokens that decode to exactly one Han character
with a known tone can fill a position.
"""

from __future__ import annotations

from functools import lru_cache

import torch

from poetcore.lexicon.copyguard import CorpusLines
from poetcore.lexicon.rhyme_usage import RhymeUsage
from poetcore.lexicon.seasons import SEASONS, SeasonLexicon
from poetcore.prosody.cilin import CilinTable
from poetcore.prosody.rhymes import RhymeTable, Tone
from poetcore.text.chars import is_han

__all__ = ["RHYME_FILTERS", "DeviceMasks", "VocabMasks", "device_masks", "guard_tensor", "on_device", "vocab_masks"]

RHYME_FILTERS = ("", "平", "仄", "词平", "词仄", "词入")
"""Kinds of rhyme position, by index: none; a 诗 rhyme in a 平声 / 仄声 group of 平水韵; a 词 rhyme in
a 词林正韵 部, read in 平, in 上去 (仄) or in 入."""


def _ci_class(cilin: CilinTable, ch: str, gid: str, table: RhymeTable) -> str:
    """The 词 rhyme class of ``ch`` read in 平水韵 group ``gid``: its 部 and tone (平, 仄 = 上去, 入)."""
    bu = cilin.bu(ch, gid)
    tone = "入" if bu >= 15 else "平" if table.group(gid).tone is Tone.PING else "仄"
    return f"部{bu}{tone}"


def _bu_of_class(name: str) -> int:
    return int(name[1:-1])


class VocabMasks:
    """Boolean masks over a tokenizer's vocabulary, computed once per (tokenizer, rhyme table).

    Only tokens that decode to exactly one Han character with a known tone can fill a position:
    that keeps every position one token wide and every tone decision grounded in the table.

    With ``usage``, a generated rhyme character may only stand for the groups it is commonly rhymed
    in (`RhymeUsage.common`), so no rhyme rests on a reading nobody hears; without it, every reading
    in the table counts. Characters the user wrote (续写) always keep every reading.
    """

    def __init__(
        self, tokenizer, table: RhymeTable, usage: RhymeUsage | None = None, seasons: SeasonLexicon | None = None,
        reduplicated: frozenset[str] | None = None,
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
        # Rhyme classes: the 平声 groups (诗), then the 仄声 groups (仄韵 绝句), then the 词林正韵 部 by
        # tone (词: 部k平, 部k仄 for 上去, 部k入). A rhyme set narrows to classes as it is written.
        self.ze_groups = [g for g in table.group_ids() if table.group(g).tone is not Tone.PING]
        cilin = CilinTable(table)
        self.ci_classes = [f"部{b}{t}" for b in range(1, 20) for t in (("入",) if b >= 15 else ("平", "仄"))]
        self.rhyme_classes: list[str] = [*self.ping_groups, *self.ze_groups, *self.ci_classes]
        gindex = {g: k for k, g in enumerate(self.rhyme_classes)}
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
            every = table.groups(ch)
            common = table.ping_groups(ch) if usage is None else usage.common_groups(ch, table)
            # A generated 仄 rhyme stands only on a character that has no 平 reading to be heard in.
            ze_ok = tones == frozenset((Tone.ZE,))
            full = {gindex[g] for g in every} | {gindex[_ci_class(cilin, ch, g, table)] for g in every}
            gs = {gindex[g] for g in common} | {gindex[_ci_class(cilin, ch, g, table)] for g in common}
            if ze_ok:
                ze = [g for g in every if table.group(g).tone is not Tone.PING]
                gs |= {gindex[g] for g in ze} | {gindex[_ci_class(cilin, ch, g, table)] for g in ze}
            self.groups_of[i] = frozenset(full)
            self.rhyme_groups_of[i] = frozenset(gs)
            group_rows.extend(gs)
            group_cols.extend([i] * len(gs))
            canon_l[i] = self.id_of[ch]
        can_ping = torch.tensor(can_ping_l, dtype=torch.bool)
        can_ze = torch.tensor(can_ze_l, dtype=torch.bool)
        group_mask = torch.zeros(len(self.rhyme_classes), V, dtype=torch.bool)  # (C, V): generated rhymes
        group_mask[torch.tensor(group_rows, dtype=torch.long), torch.tensor(group_cols, dtype=torch.long)] = True
        # (F, C): the classes each kind of rhyme position draws on (`RHYME_FILTERS`).
        family = {"平": self.ping_groups, "仄": self.ze_groups,
                  **{f"词{t}": [c for c in self.ci_classes if c.endswith(t)] for t in ("平", "仄", "入")}}
        self.filters = torch.zeros(len(RHYME_FILTERS), len(self.rhyme_classes), dtype=torch.bool)
        for f, name in enumerate(RHYME_FILTERS):
            for c in family.get(name, ()):
                self.filters[f, gindex[c]] = True
        # (C, C): a 词 rhyme set keeps its 部 in every tone (西江月's 叶仄); a 诗 group is only itself.
        self.siblings = torch.eye(len(self.rhyme_classes), dtype=torch.bool)
        for a in self.ci_classes:
            for b in self.ci_classes:
                if _bu_of_class(a) == _bu_of_class(b):
                    self.siblings[gindex[a], gindex[b]] = True
        canon = torch.tensor(canon_l, dtype=torch.long)  # (V,)
        known = can_ping | can_ze
        self.known = known
        # (4, V): rows indexed by a requirement code.
        self.tone_table = torch.stack([torch.zeros(V, dtype=torch.bool), can_ping, can_ze, known])
        self.group_mask = group_mask
        self.group_mask_f = group_mask.float()
        self.group_sizes = group_mask.sum(1)  # (C,)
        self.canonical = canon  # token id -> first token id of the same character
        self.group_index = gindex
        self.eos_id = tokenizer.eos_token_id
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        # (5, V): row k marks the characters of every season but SEASONS[k] and those out of place in it
        # (梅 in autumn); row 4 (season unknown) is empty.
        self.season_of: list[int] = [len(SEASONS)] * V
        off = torch.zeros(len(SEASONS) + 1, V, dtype=torch.bool)
        for i, ch in enumerate(self.char_of):
            season = seasons.season_of.get(ch) if (seasons and ch) else None
            if season is not None:
                k = SEASONS.index(season)
                self.season_of[i] = k
                off[[j for j in range(len(SEASONS)) if j != k], i] = True
            for out_of_place in (seasons.rare_in.get(ch, "") if (seasons and ch) else ""):
                off[SEASONS.index(out_of_place), i] = True
        self.off_season = off
        # Two-character season words (东风, 重阳) as (3, E) token ids: first, second, season index.
        self.season_word_of: dict[str, int] = {}
        word_rows: list[tuple[int, int, int]] = []
        for word, season in sorted((seasons.words if seasons else {}).items()):
            self.season_word_of[word] = SEASONS.index(season)
            if word[0] in self.id_of and word[1] in self.id_of:
                word_rows.append((self.id_of[word[0]], self.id_of[word[1]], SEASONS.index(season)))
        self.season_words = torch.tensor(word_rows, dtype=torch.long).reshape(-1, 3).t().contiguous()
        # 叠字 the corpus writes (青青, 萧萧; not 月月 or 鱼鱼): all of them without a list.
        self.dieci_ok = torch.tensor([reduplicated is None or (c is not None and c in reduplicated)
                                      for c in self.char_of], dtype=torch.bool)
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
    tokenizer_key: int, tokenizer, table: RhymeTable, usage: RhymeUsage | None, seasons: SeasonLexicon | None,
    reduplicated: frozenset[str] | None,
) -> VocabMasks:
    return VocabMasks(tokenizer, table, usage, seasons, reduplicated)


def vocab_masks(
    tokenizer, table: RhymeTable | None = None, usage: RhymeUsage | None = None, seasons: SeasonLexicon | None = None,
    reduplicated: frozenset[str] | None = None,
) -> VocabMasks:
    """Masks for this tokenizer (with rhyme usage, season lexicon and licensed 叠字), cached per tokenizer."""
    table = table or RhymeTable.default()
    return _cached_masks(id(tokenizer), tokenizer, table, usage, seasons, reduplicated)


class DeviceMasks:
    """The vocabulary tensors one decoding step needs, on the scores' device (cached per device)."""

    def __init__(self, m: VocabMasks, device: torch.device) -> None:
        V, G = m.vocab_size, len(m.rhyme_classes)
        self.tone_table = m.tone_table.to(device)  # (4, V)
        self.group_mask_f = m.group_mask_f.to(device)  # (C, V) generated rhymes
        self.rhyme_groups = m.group_mask.t().contiguous().to(device)  # (V, C) common readings
        self.filters = m.filters.to(device)  # (F, C)
        self.siblings_f = m.siblings.float().to(device)  # (C, C)
        full = torch.zeros(V, G, dtype=torch.bool)
        rows = [i for i, gs in enumerate(m.groups_of) for _ in gs]
        cols = [g for gs in m.groups_of for g in gs]
        if rows:
            full[torch.tensor(rows), torch.tensor(cols)] = True
        self.full_groups = full.to(device)  # (V, C) every reading (the user's own characters)
        self.canonical = m.canonical.to(device)  # (V,)
        tone_class = [3 if not t else 2 if len(t) == 2 else 0 if Tone.PING in t else 1 for t in m.tones]
        self.tone_class = torch.tensor(tone_class, dtype=torch.long, device=device)  # (V,)
        self.season_of = torch.tensor(m.season_of, dtype=torch.long, device=device)  # (V,)
        self.codepoint = torch.tensor([ord(c) if c else 0 for c in m.char_of], dtype=torch.long, device=device)
        self.off_season = m.off_season.to(device)  # (5, V)
        self.season_words = m.season_words.to(device)  # (3, E)
        self.dieci_ok = m.dieci_ok.to(device)  # (V,)


def on_device(owner: object, device: torch.device, make):  # type: ignore[no-untyped-def]
    """``make(device)``, built once per device and kept on ``owner`` (masks, copy guard)."""
    cache = owner.__dict__.setdefault("on_device", {})
    key = str(device)
    if key not in cache:
        cache[key] = make(device)
    return cache[key]


def guard_tensor(guard: CorpusLines, device: torch.device) -> torch.Tensor:
    """The guard's sorted hashes as one int64 tensor."""
    return on_device(guard, device, lambda dev: torch.frombuffer(
        bytearray(guard.hashes.tobytes()), dtype=torch.int32).long().to(dev))


def device_masks(m: VocabMasks, device: torch.device) -> DeviceMasks:
    return on_device(m, device, lambda dev: DeviceMasks(m, dev))
