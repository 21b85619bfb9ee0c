"""verl custom reward: ``custom_reward_function.path=training/verl_reward.py``
``custom_reward_function.name=compute_score``. Calls RAMP's reward functions, so verl
and ``ramp rl`` score a rollout the same way."""

from __future__ import annotations

from typing import Any

from ramp.rewards import HYBRID, REWARDS, weighted

_HYBRID = weighted(HYBRID)


def compute_score(data_source: str, solution_str: str, ground_truth: Any,
                  extra_info: dict | None = None, reward: str = "hybrid") -> float:
    """verl's signature. ``ground_truth`` is ``{"target": [...], "num_masks": n}`` (our export)
    or a bare list/str of acceptable answers (Search-R1's QA data)."""
    if isinstance(ground_truth, dict):
        target, n = ground_truth.get("target", []), ground_truth.get("num_masks", 0)
    else:
        target, n = ground_truth, 0
    if isinstance(target, str):
        target = [target]
    fn = _HYBRID if reward == "hybrid" else REWARDS[reward]
    return float(fn([""], [solution_str], answers=[list(target)], num_masks=[n])[0])
