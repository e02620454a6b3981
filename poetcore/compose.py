"""Composer: topic + form in, a 格律-correct poem out.

The model proposes, the constraints dispose: `n` candidates are sampled in one batched ``generate``
call under `PoemConstraintLogitsProcessor`, then reranked by length-normalised LM log-probability,
topic coverage and a repetition penalty. The sampling defaults live in the model's
``generation_config.json`` (`poetcore.model.modeling.poem_generation_config`), so a model ships with the
decoding it was tuned for.
"""

from __future__ import annotations

import copy
import logging
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, GenerationConfig, LogitsProcessorList

from poetcore.decoding.masks import vocab_masks
from poetcore.decoding.processor import PoemConstraintLogitsProcessor, replay
from poetcore.decoding.rerank import line_alone_logprobs, sequence_logprobs
from poetcore.decoding.sampling import TemperatureTopP
from poetcore.decoding.spec import PoemSpec, feasible_variants, prefix_misfits
from poetcore.errors import ModelLoadError, PoetcoreInputError
from poetcore.lexicon.bigrams import BigramTable
from poetcore.lexicon.copyguard import CorpusLines
from poetcore.lexicon.rhyme_usage import RhymeUsage
from poetcore.lexicon.seasons import SeasonLexicon
from poetcore.model.critic import PoemCritic
from poetcore.model.modeling import DECODING_DEFAULTS, default_model_dir
from poetcore.model.tokenizer import format_prompt, load_tokenizer
from poetcore.prosody.checker import check
from poetcore.prosody.cilin import BU_NAMES, CilinTable
from poetcore.prosody.forms import FormTemplate, get_form
from poetcore.prosody.rhyme_choice import resolve_rhyme, ze_form_of
from poetcore.prosody.rhymes import RhymeTable, Tone
from poetcore.request import (
    MAX_CANDIDATES,
    REPEAT_POLICIES,
    ComposeRequest,
    Poem,
    RepeatPolicy,
    topic_keywords,
    validate_heads,
    validate_prefix,
    validate_topic,
)

log = logging.getLogger(__name__)


@dataclass
class _Prepared:
    request: ComposeRequest
    form: FormTemplate
    topic: str
    heads: tuple[str, ...] | None
    rhyme_gid: str | None
    keywords: list[str]
    seed: int
    n: int
    prefix: tuple[str, ...] = ()



class Composer:
    """Loads a model once and composes poems with guaranteed 格律."""

    def __init__(self, model, tokenizer, device: torch.device | str | None = None, table: RhymeTable | None = None,
                 critic: PoemCritic | None = None):
        self.device = torch.device(device) if device is not None else next(model.parameters()).device
        self.critic = critic
        self.model = model.to(self.device).eval()
        self.tokenizer = tokenizer
        self.table = table or RhymeTable.default()
        self.masks = vocab_masks(tokenizer, self.table, RhymeUsage.default(), SeasonLexicon.default(),
                                 BigramTable.default().reduplicated())
        # A copy: tuning one composer (eval, bench) must not change the model's saved defaults.
        self.generation_config: GenerationConfig = copy.deepcopy(model.generation_config)
        for key, value in DECODING_DEFAULTS.items():
            if getattr(self.generation_config, key, None) is None:
                setattr(self.generation_config, key, value)  # a model saved before these keys existed

    @property
    def topic_bias(self) -> float:
        """Logit bonus for topic characters not yet used (see `PoemConstraintLogitsProcessor`)."""
        return self._decoding_knob("topic_bias")

    @property
    def topic_margin(self) -> float:
        """Topic characters are favoured only within this many nats of the LM's best token."""
        return self._decoding_knob("topic_margin")

    @property
    def season_penalty(self) -> float:
        """Logit penalty for characters of another season than the poem's (0: off)."""
        return self._decoding_knob("season_penalty")

    @property
    def line_fit_weight(self) -> float:
        """Rerank weight of line fit (0: off, no extra forward pass)."""
        return self._decoding_knob("line_fit_weight")

    @property
    def default_candidates(self) -> int:
        """Candidates per poem when a request names none: the model's decoding, like its temperature."""
        return int(self._decoding_knob("candidates"))

    @property
    def critic_weight(self) -> float:
        """Rerank weight of the critic's log-odds that a candidate is a real poem (0: off)."""
        return self._decoding_knob("critic_weight")

    @property
    def coverage_weight(self) -> float:
        """Rerank bonus per covered share of the topic's characters."""
        return self._decoding_knob("coverage_weight")

    def _decoding_knob(self, key: str) -> float:
        """One of `DECODING_DEFAULTS`: extra keys of generation_config.json, unknown to HF's class."""
        value = getattr(self.generation_config, key, None)
        return float(DECODING_DEFAULTS[key] if value is None else value)

    @classmethod
    def from_pretrained(cls, path: str | Path | None = None, device: str | None = None) -> Composer:
        """Load from ``path`` (default: the model shipped in the package). Never touches the network."""
        path = Path(path or default_model_dir())
        if not (path / "config.json").exists():
            raise ModelLoadError(
                f"no model at {path} (config.json missing). Train one with `poetcore train` "
                "or point POETCORE_MODEL / --model at a saved model directory."
            )
        dev = device or ("cuda" if torch.cuda.is_available() else "cpu")
        t0 = time.perf_counter()
        tokenizer = load_tokenizer(path)
        dtype = torch.bfloat16 if str(dev).startswith("cuda") else torch.float32
        model = AutoModelForCausalLM.from_pretrained(path, local_files_only=True, dtype=dtype)
        composer = cls(model, tokenizer, dev)
        if composer.critic_weight:
            composer.critic = PoemCritic.beside(path, dev)
            if composer.critic is None:
                log.warning("composer: %s sets critic_weight but has no critic/; reranking without it", path)
        log.info("composer: loaded %s on %s in %.2fs", path, dev, time.perf_counter() - t0)
        return composer

    # -- input validation -----------------------------------------------------------------------

    def _prepare(self, req: ComposeRequest) -> _Prepared:
        form = get_form(req.form)
        if form.is_ci:
            self._check_ci(form, req)
        heads = validate_heads(req.heads, form)
        if heads is not None:
            self._check_heads(heads, form)
        prefix = validate_prefix(req.prefix, form)
        if prefix and heads:
            raise PoetcoreInputError("prefix_and_heads", "续写和藏头不能同时用。", "Use either a prefix or heads, not both.")
        for ch in "".join(prefix):
            if ch not in self.masks.id_of or not self.table.tones(ch):
                raise PoetcoreInputError(
                    "prefix_unknown_char", f"“{ch}”不在字表中或声调不明，无法续写。",
                    f"{ch!r} is unknown or has no known tone, so the line cannot be continued.",
                )
        if prefix and not req.rhyme and (twin := ze_form_of(form)) is not None and self._rhymes_in_ze(prefix, form, twin):
            form = twin  # the user's lines rhyme in 仄 (春眠不觉晓，处处闻啼鸟): a 仄韵 绝句 continues them
        topic = validate_topic(req.topic, required=heads is None and not prefix and not form.is_ci) or "".join(heads or ())
        if not topic and form.is_ci:
            topic = form.name  # /poem 长相思: the tune's own theme, as the first 词 were written
        if not topic and prefix:
            topic = prefix[0][:4]  # condition on the user's own words
        rhyme_gid = None
        if req.rhyme:
            form, rhyme_gid = resolve_rhyme(req.rhyme, form, self.table)
            if heads is not None:
                self._check_heads(heads, form)
        n = req.n if req.n is not None else self.default_candidates
        if not 1 <= n <= MAX_CANDIDATES:
            raise PoetcoreInputError(
                "bad_n", f"候选数 n 须在 1 到 {MAX_CANDIDATES} 之间。", f"n must be between 1 and {MAX_CANDIDATES}."
            )
        if req.repeat not in REPEAT_POLICIES:
            raise PoetcoreInputError(
                "bad_repeat",
                f"重复字选项须为 none、dieci（只许叠字）或 any，不能是“{req.repeat}”。",
                f"repeat must be none, dieci (叠字 only) or any, not {req.repeat!r}.",
            )
        seed = req.seed if req.seed is not None else random.SystemRandom().randrange(2**31)
        return _Prepared(req, form, topic, heads, rhyme_gid, topic_keywords(topic), seed, n, prefix=prefix)

    def _rhymes_in_ze(self, prefix: tuple[str, ...], form: FormTemplate, twin: FormTemplate) -> bool:
        """Whether a 绝句's given lines ask for a 仄韵 one: a second line (always a rhyme) that can only
        be read 仄; or a lone first line ending in 仄 that fits the 仄韵 chart better than the 平韵 one
        (千山鸟飞绝 is no 律句; 白日依山尽 is, and goes on in 平)."""
        ends_ze = [self.table.tones(line[-1]) == frozenset((Tone.ZE,)) for line in prefix]
        if len(prefix) >= 2:
            return ends_ze[1]
        if not ends_ze[0]:
            return False
        ping = min(prefix_misfits(PoemSpec(form, prefix=prefix), self.table, v) for v in range(len(form.variants)))
        ze = min(prefix_misfits(PoemSpec(twin, prefix=prefix), self.table, v) for v in range(len(twin.variants)))
        return ze < ping

    def _check_ci(self, form: FormTemplate, req: ComposeRequest) -> None:
        """A 词 is written from its chart under the 词牌's own form token: the model must know it."""
        token = f"<|{form.prompt_form}|>"
        if self.tokenizer.convert_tokens_to_ids(token) in (None, self.tokenizer.unk_token_id):
            raise PoetcoreInputError(
                "cipai_not_trained", f"模型没有学过{form.name}，暂不能填这个词牌。",
                f"The model was not trained on {form.name}, so it cannot write this 词牌 yet.")
        if req.prefix:
            raise PoetcoreInputError("ci_prefix", "续写只写诗（五绝、七绝、五律、七律），不续词。",
                                     "Continuing lines works for 诗 (五绝 七绝 五律 七律), not for 词.")
        if req.heads and any(v.echoes for v in form.variants):
            raise PoetcoreInputError("ci_heads_echo", f"{form.name}有叠句（重复前句），不能藏头。",
                                     f"{form.name} repeats a line (叠句), so it cannot carry head characters.")

    def _check_heads(self, heads: tuple[str, ...], form: FormTemplate) -> None:
        for h in heads:
            if h not in self.masks.id_of or not self.table.tones(h):
                raise PoetcoreInputError(
                    "head_unknown",
                    f"藏头字“{h}”不在字表中或声调不明，请换一个字。",
                    f"Head character {h!r} is unknown or has no known tone; pick another.",
                )
        if feasible_variants(PoemSpec(form, heads), self.table):
            return
        # Explain which head breaks every variant.
        details = []
        for i, h in enumerate(heads):
            tones = "".join(sorted(t.value for t in self.table.tones(h)))
            details.append(f"第{i + 1}句“{h}”({tones})")
        raise PoetcoreInputError(
            "heads_conflict",
            f"这组藏头字的平仄与{form.name}的任何格式都不合：{'，'.join(details)}。"
            "请把其中仄声字换成平声字（或反之）再试。",
            f"These head characters fit no tonal variant of {form.name}: {', '.join(details)}. "
            "Swap a 仄 character for a 平 one (or vice versa).",
        )

    # -- generation -----------------------------------------------------------------------------

    def compose(
        self,
        topic: str | None,
        form: str = "七绝",
        heads: str | Sequence[str] | None = None,
        rhyme: str | None = None,
        n: int | None = None,
        seed: int | None = None,
        repeat: RepeatPolicy = "dieci",
        traditional: bool = False,
    ) -> Poem:
        """Compose one poem (the best of ``n`` candidates)."""
        req = ComposeRequest(topic or "", form, heads, rhyme, n, seed, repeat, traditional)
        result = self.compose_batch([req])[0]
        if isinstance(result, Exception):
            raise result
        return result

    def compose_batch(self, requests: Sequence[ComposeRequest]) -> list[Poem | PoetcoreInputError]:
        """Serve several requests with one ``generate`` call; bad requests come back as their error."""
        prepared: list[_Prepared | PoetcoreInputError] = []
        for req in requests:
            try:
                prepared.append(self._prepare(req))
            except PoetcoreInputError as exc:
                prepared.append(exc)
        good = [p for p in prepared if isinstance(p, _Prepared)]
        poems: dict[int, Poem | PoetcoreInputError] = {}
        if good:
            for p, poem in zip(good, self._generate(good), strict=True):
                poems[id(p)] = poem
        return [p if isinstance(p, PoetcoreInputError) else poems[id(p)] for p in prepared]

    def candidates(self, req: ComposeRequest) -> list[Poem]:
        """All valid candidates for one request, best first (for eval and debugging)."""
        return self._generate([self._prepare(req)], keep_all=True)[0]  # type: ignore[return-value]

    @torch.no_grad()
    def _generate(self, prepared: Sequence[_Prepared], keep_all: bool = False) -> list:
        # Sampling writes request.n rows per request; beam search one row with K beams, K candidates,
        # K = max(num_beams, the largest n). A batch asking one candidate each keeps the fast path.
        num_beams = int(self.generation_config.num_beams or 1)
        most = max(p.n for p in prepared)
        width = max(num_beams, most) if num_beams > 1 and most > 1 else 1
        beams = width > 1
        specs: list[PoemSpec] = []
        prompts: list[str] = []
        owners: list[int] = []
        for k, p in enumerate(prepared):
            spec = PoemSpec(p.form, p.heads, p.rhyme_gid, p.topic, p.request.repeat, prefix=p.prefix)
            prompt = format_prompt(p.form.prompt_form, p.keywords)
            for _ in range(1 if beams else p.n):
                specs.append(spec)
                prompts.append(prompt)
                owners.append(k)
        enc = self.tokenizer(
            prompts, return_tensors="pt", padding=True, padding_side="left", add_special_tokens=False
        )
        input_ids = enc["input_ids"].to(self.device)
        attn = enc["attention_mask"].to(self.device)
        prompt_of = [enc["input_ids"][owners.index(k)] for k in range(len(prepared))]
        knobs = {"prompt_length": input_ids.shape[1], "topic_bias": self.topic_bias,
                 "topic_margin": self.topic_margin, "season_penalty": self.season_penalty,
                 "copy_guard": CorpusLines.default() if self._decoding_knob("block_copies") else None,
                 "topic_opening": bool(self._decoding_knob("topic_opening"))}
        proc = PoemConstraintLogitsProcessor(specs, self.masks, num_beams=width, **knobs)
        # One seed per batch: reproducible for a single request with --seed.
        torch.manual_seed(prepared[0].seed)
        config = copy.deepcopy(self.generation_config)  # per call: HF wants one config, not config + kwargs
        config.update(max_new_tokens=proc.max_new_tokens, pad_token_id=self.masks.pad_id,
                      eos_token_id=self.masks.eos_id, return_dict_in_generate=True, output_logits=not beams)
        if beams:
            config.update(num_beams=width, num_return_sequences=width, length_penalty=0.0, early_stopping=True)
        else:
            config.update(num_beams=1, num_return_sequences=1)
        processors = LogitsProcessorList([proc])
        if config.do_sample and not config.top_k and (config.top_p or 1.0) < 1.0:
            # HF's temperature and top-p, without its full-vocabulary sort (poetcore.decoding.sampling); HF keeps
            # one more token than it has EOS ids in beam methods, and so do we.
            processors.append(TemperatureTopP(config.temperature or 1.0, config.top_p, 2 if beams else 1))
            config.update(temperature=1.0, top_p=1.0)
        out = self.model.generate(
            input_ids=input_ids, attention_mask=attn, generation_config=config, logits_processor=processors,
        )
        new = out.sequences[:, input_ids.shape[1] :]  # (N, S)
        if beams:
            owners = [k for k in owners for _ in range(width)]
            attn = attn.repeat_interleave(width, 0)
            # The returned beams are not the processor's last rows: fold them into a fresh state.
            proc = replay(PoemConstraintLogitsProcessor([s for s in specs for _ in range(width)], self.masks, **knobs),
                          out.sequences)
            logp = sequence_logprobs(self.model, out.sequences, attn)
        else:
            # The LM's own log-prob of each chosen token, from the unprocessed logits (not the masked ones).
            logp = self.model.compute_transition_scores(out.sequences, out.logits, normalize_logits=True).float()
        per_request: list[list[Poem]] = [[] for _ in prepared]
        in_context: list[list[list[float]]] = [[] for _ in prepared]  # per candidate, per line: LM log-prob
        for row in range(new.shape[0]):
            if proc.failed[row]:
                continue
            p = prepared[owners[row]]
            decoded = self._decode(p, new[row].tolist(), logp[row], proc, row)
            if decoded is not None:
                per_request[owners[row]].append(decoded[0])
                in_context[owners[row]].append(decoded[1])
        if self.line_fit_weight:
            self._add_line_fit(per_request, in_context, prompt_of)
        if self.critic is not None and self.critic_weight:
            self._add_critic(per_request, prepared)
        results: list = []
        for p, cands in zip(prepared, per_request, strict=True):
            cands.sort(key=lambda c: c.score, reverse=True)
            if keep_all:
                results.append(cands)
            elif cands:
                results.append(self._best_traditional(cands) if p.request.traditional else cands[0])
            else:
                results.append(
                    PoetcoreInputError(
                        "no_candidate",
                        "这次没有写出合格律的诗，请换个题目或韵部再试。",
                        "No candidate met the form this time; try another topic or rhyme.",
                    )
                )
        return results

    @staticmethod
    def _best_traditional(cands: list[Poem]) -> Poem:
        """The best candidate whose traditional text still passes the checker, in traditional.

        OpenCC can pick a traditional character with fewer readings than the merged simplified
        one (叹 -> 嘆 平 only, 凭 -> 憑), so a correct simplified poem may fail `poetcore check`
        once converted (about 2% of correct corpus poems do). Falls back to the best candidate.
        """
        for cand in cands:
            trad = cand.to_traditional()
            if cand.kind != "诗" or check(trad.text, form=trad.form).ok:
                return trad
        return cands[0].to_traditional()

    def _add_line_fit(self, per_request: list[list[Poem]], in_context: list[list[list[float]]],
                      prompts: list[torch.Tensor]) -> None:
        """Rerank by line fit (`poetcore.decoding.rerank`): each line's log-prob after the lines before it minus
        its log-prob as an opening line, per character, averaged over the lines after the first."""
        m = self.masks
        pairs_prompt, pairs_line, where = [], [], []
        for k, cands in enumerate(per_request):
            if len(cands) < 2:
                continue  # nothing to rerank: spare the forward pass (n=1 stays fast)
            prompt = [int(t) for t in prompts[k].tolist() if int(t) != m.pad_id]
            for c, poem in enumerate(cands):
                for i, line in enumerate(poem.lines[1:], start=1):
                    pairs_prompt.append(prompt)
                    pairs_line.append([m.id_of[ch] for ch in line])
                    where.append((k, c, i))
        if not where:
            return
        alone = line_alone_logprobs(self.model, pairs_prompt, pairs_line, m.pad_id)
        gains: dict[tuple[int, int], list[float]] = {}
        for (k, c, i), lp in zip(where, alone, strict=True):
            line = per_request[k][c].lines[i]
            gains.setdefault((k, c), []).append((in_context[k][c][i] - lp) / len(line))
        for (k, c), g in gains.items():
            poem = per_request[k][c]
            poem.line_fit = round(sum(g) / len(g), 4)
            poem.score = round(poem.score + self.line_fit_weight * poem.line_fit, 4)

    def _add_critic(self, per_request: list[list[Poem]], prepared: Sequence[_Prepared]) -> None:
        """Rerank by the critic (`poetcore.model.critic`): its log-odds that a candidate is a real poem,
        one batched forward pass over every candidate of every request."""
        assert self.critic is not None
        where = [(k, c) for k, cands in enumerate(per_request) if len(cands) > 1 for c in range(len(cands))]
        if not where:
            return  # one candidate: nothing to choose between, spare the pass
        logits = self.critic.logits([(prepared[k].form.prompt_form, per_request[k][c].lines) for k, c in where])
        for (k, c), logit in zip(where, logits, strict=True):
            poem = per_request[k][c]
            poem.critic = round(logit, 4)
            poem.score = round(poem.score + self.critic_weight * logit, 4)

    def _decode(self, p: _Prepared, ids: list[int], logp: torch.Tensor, proc,
                row: int) -> tuple[Poem, list[float]] | None:
        """The poem one row wrote, and the LM log-prob of each line's characters in context."""
        m = self.masks
        chars: list[str] = []
        lines: list[str] = []
        line_logp: list[float] = []
        total, count, here = 0.0, 0, 0.0
        for step, tok in enumerate(ids):
            if tok == m.eos_id:
                break
            total += float(logp[step])
            count += 1
            if tok in (m.comma_id, m.period_id):
                lines.append("".join(chars))
                line_logp.append(here)
                chars, here = [], 0.0
                continue
            ch = m.char_of[tok]
            if ch is None:
                return None
            chars.append(ch)
            here += float(logp[step])
        if len(lines) != p.form.n_lines:
            return None
        body = "".join(lines)
        coverage = sum(1 for ch in dict.fromkeys(p.topic) if ch in body) / max(1, len(set(p.topic)))
        repeats = len(body) - len(set(body))
        lm = total / max(1, count)
        score = lm + self.coverage_weight * coverage - 0.3 * repeats
        rhyme = self._rhyme_label(lines, p.form, proc, row)
        title = f"藏头·{''.join(p.heads)}" if p.heads and p.topic == "".join(p.heads) else p.topic
        if p.prefix and not p.request.topic:
            title = f"续·{p.prefix[0]}"
        return Poem(
            lines=lines,
            form=p.form.name,
            rhyme_group=rhyme,
            title=title,
            topic=p.topic,
            score=round(score, 4),
            heads=list(p.heads) if p.heads else None,
            variant=self._variant_name(p.form, proc, row),
            seed=p.seed,
            lm_logprob=round(lm, 4),
            topic_coverage=round(coverage, 4),
            marks=p.form.variants[0].punctuation if p.form.is_ci else "",
            kind=p.form.kind,
        ), line_logp

    def _rhyme_label(self, lines: list[str], form: FormTemplate, proc, row: int) -> str:
        """What the poem rhymes in, as users read it: the 平水韵 group (东; 仄声 ones with their tone,
        上声筿), or for a 词 each rhyme set's 词林正韵 部 and tone (第七部仄、第一部平)."""
        variant = form.variants[(proc.alive_variants(row) or [0])[0]]
        labels = []
        for k, group in enumerate(variant.rhyme_groups):
            last = lines[min(group.lines)][-1]
            classes = proc.rhyme_groups(row, k)
            if form.is_ci:
                bus = sorted({int(c[1:-1]) for c in classes})
                bu = bus[0] if len(bus) == 1 else next(iter(CilinTable(self.table).bu_of(last).values()), None)
                labels.append(f"{BU_NAMES[bu - 1]}{group.tone}" if bu else "")
                continue
            mine = [g for g in classes if g in self.table.groups(last)] or sorted(self.table.groups(last))
            if mine:
                gid = mine[0]
                tone = self.table.group(gid).tone
                labels.append(self.table.group_label(gid) if tone is Tone.PING else gid[:2] + self.table.group_label(gid))
        return "、".join(x for x in labels if x)

    @staticmethod
    def _variant_name(form: FormTemplate, proc, row: int) -> str | None:
        alive = proc.alive_variants(row)
        return form.variants[alive[0]].name if alive else None


__all__ = ["Composer"]
