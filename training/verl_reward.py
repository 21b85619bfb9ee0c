"""verl custom reward: ``reward.custom_reward_function.path=pkg://training.verl_reward``
``reward.custom_reward_function.name=compute_score``. RAMP's reward functions, so verl and
``ramp rl`` score a rollout the same way.

Only what the policy wrote is scored: the ``ramp_agent`` loop passes its own turns in
``extra_info["ramp_messages"]``; without them (another agent loop) ``<information>`` blocks
are stripped from ``solution_str`` before any tag is read (``ramp.rewards.completion_text``).
A retrieved document that contains ``<answer>`` cannot change the score.
"""

from __future__ import annotations

from typing import Any

from ramp.rewards import HYBRID, REWARDS, weighted

_HYBRID = weighted(HYBRID)


def compute_score(
    data_source: str,
    solution_str: str,
    ground_truth: Any,
    extra_info: dict | None = None,
    reward: str = "hybrid",
    **_: Any,
) -> float:
    """verl's signature. ``ground_truth`` is ``{"target": [...], "num_masks": n}`` (our export)
    or a bare list/str of acceptable answers (Search-R1's QA data)."""
    if isinstance(ground_truth, dict):
        target, n = ground_truth.get("target", []), ground_truth.get("num_masks", 0)
    else:
        target, n = ground_truth, 0
    if isinstance(target, str):
        target = [target]
    turns = (extra_info or {}).get("ramp_messages")
    completion = "\n".join(str(t) for t in turns) if turns is not None else solution_str
    fn = _HYBRID if reward == "hybrid" else REWARDS[reward]
    return float(fn([""], [completion], answers=[[str(t) for t in target]], num_masks=[n])[0])
