"""Scores for reranking candidates that need the LM again: teacher-forced log-probs and line fit.

Line fit is a pointwise mutual information between a line and the lines before it: how much more
likely the LM finds line i after the poem so far than as a poem's opening line under the same
prompt (form and topic keywords). A generic line (回首无情一夜归) is likely anywhere and gains
little; a line that answers its neighbours gains. It is the anti-LM idea of maximum-mutual-
information decoding (Li et al., 2016, "A Diversity-Promoting Objective Function for Neural
Conversation Models"), applied across the lines of a poem.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

__all__ = ["line_alone_logprobs", "sequence_logprobs"]


def _positions(attention_mask: torch.Tensor) -> torch.Tensor:
    # Left padding: positions count real tokens only, as generate() counts them.
    return (attention_mask.long().cumsum(-1) - 1).clamp(min=0)


@torch.no_grad()
def sequence_logprobs(model, sequences: torch.Tensor, prompt_mask: torch.Tensor) -> torch.Tensor:
    """(N, S) log-prob the LM gives each generated token (after the prompt) of ``sequences``, from
    its raw logits: the same numbers `compute_transition_scores` gives for a sampled sequence."""
    prompt_len = prompt_mask.shape[1]
    mask = torch.cat([prompt_mask, torch.ones_like(sequences[:, prompt_len:])], dim=1)
    logits = model(input_ids=sequences, attention_mask=mask, position_ids=_positions(mask)).logits
    logp = torch.log_softmax(logits[:, prompt_len - 1 : -1].float(), dim=-1)
    return logp.gather(-1, sequences[:, prompt_len:].unsqueeze(-1)).squeeze(-1)


@torch.no_grad()
def line_alone_logprobs(model, prompts: Sequence[Sequence[int]], lines: Sequence[Sequence[int]],
                        pad_id: int) -> list[float]:
    """Summed log-prob of each line's tokens written right after its prompt, as an opening line:
    one batched forward for every (prompt, line) pair."""
    if not lines:
        return []
    rows = [list(p) + list(line) for p, line in zip(prompts, lines, strict=True)]
    width = max(map(len, rows))
    device = next(model.parameters()).device
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, row in enumerate(rows):
        ids[i, width - len(row):] = torch.tensor(row)
        mask[i, width - len(row):] = 1
    ids, mask = ids.to(device), mask.to(device)
    logits = model(input_ids=ids, attention_mask=mask, position_ids=_positions(mask)).logits
    logp = torch.log_softmax(logits[:, :-1].float(), dim=-1).gather(-1, ids[:, 1:].unsqueeze(-1)).squeeze(-1)
    out = []
    for i, line in enumerate(lines):
        n = len(line)
        out.append(float(logp[i, width - 1 - n :].sum()))
    return out
