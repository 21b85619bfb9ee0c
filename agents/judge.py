"""The model-based reward: an LLM judges whether the answer matches the gold (MaskSearch's
model-based reward, there with a large instruct model as judge).

``judge_reward(llm)`` returns a plain reward function with TRL's signature
``f(prompts, completions, **columns) -> list[float]``: 1.0 when the judge says
``correct``, else 0.0. Completions without an ``<answer>`` score 0 without a call; a judge
that errs or writes no ``<verdict>`` (after ``retries`` re-asks) scores 0, never raises.
It lives in ``agents/`` and not in the pure ``ramp.rewards`` because it calls a model.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from agents.teacher.llm_roles import LLMRoles
from ramp.llm import LLM
from ramp.rewards import Reward, column, extract_answer, gold_list, mask_count
from ramp.trace import split_fills


def judge_reward(
    llm: LLM, version: str = "v1", retries: int = 1, max_tokens: int = 64, on_error: float | None = 0.0
) -> Reward:
    """``on_error``: the score of a row the judge could not judge (0.0 for a reward; eval
    passes None to count those rows apart)."""
    roles = LLMRoles(llm, version=version, retries=retries, max_tokens=max_tokens)

    def judge(prompts: Sequence[Any], completions: Sequence[Any], **columns: Any) -> list[float]:
        n = len(completions)
        golds = column(columns, "answers", n, [])
        masks = column(columns, "num_masks", n, 0)
        items, where = [], []
        for i, (completion, gold, k) in enumerate(zip(completions, golds, masks)):
            answer, gold, k = extract_answer(completion), gold_list(gold), mask_count(k)
            if answer is None or not gold:
                continue
            if k > 0:  # RAMP: one pair per mask
                items.append((split_fills(answer, k), gold))
            else:  # QA: one pair, any acceptable gold
                items.append(([answer], [gold]))
            where.append(i)
        out: list[float | None] = [0.0] * n
        for i, verdict in zip(where, roles.judge(items) if items else []):
            if verdict in ("correct", "incorrect"):
                out[i] = 1.0 if verdict == "correct" else 0.0
            else:  # RoleError: the judge erred or never wrote a verdict
                out[i] = on_error
        return out

    judge.__name__ = judge.__qualname__ = "judge"
    return judge
