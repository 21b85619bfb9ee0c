"""Reward functions with TRL's signature ``f(prompts, completions, **columns) -> list[float]``.

Pure: deterministic, no I/O, no printing. ``completions`` are strings, or conversational
completions (lists of ``{"role", "content"}``); the model's own turns are read, retrieved
``<information>`` is ignored. Gold comes from dataset columns: ``answers`` (one list per
row: the gold fill of each mask for RAMP tasks, acceptable answers for QA) and, for RAMP,
``num_masks`` (> 0 means "score per mask").

The hybrid reward is a weighted list, e.g. ``HYBRID = [(format_reward, 0.2),
(answer_recall, 0.8)]``, turned into one function by :func:`weighted`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from ramp.metrics import best_over_golds, exact_match, per_mask, token_f1, token_recall
from ramp.trace import INFORMATION, split_fills

Reward = Callable[..., list[float]]
_ANSWER = re.compile(r"<answer>(.*?)</answer>", re.DOTALL)
_TAGS = ("think", "search", "answer")


def completion_text(completion: Any) -> str:
    """The model-written text of a completion (string or list of messages)."""
    if isinstance(completion, str):
        text = completion
    elif isinstance(completion, (list, tuple)):
        text = "\n".join(
            str(m.get("content", ""))
            for m in completion
            if isinstance(m, dict) and m.get("role") == "assistant"
        )
    else:
        text = ""
    return INFORMATION.sub(" ", text)


def extract_answer(completion: Any) -> str | None:
    """The last ``<answer>``; a final one left open counts, as in ``parse_turn`` (OpenAI
    servers drop the stop string ``</answer>``), so rewards read what eval scores."""
    text = completion_text(completion)
    found = _ANSWER.findall(text)
    if found:
        return found[-1].strip()
    last = text.rfind("<answer>")
    return (text[last + len("<answer>") :].strip() or None) if last >= 0 else None


def column(columns: dict[str, Any], name: str, n: int, default: Any) -> list[Any]:
    """A dataset column passed to a reward (``default`` for every row when absent)."""
    values = columns.get(name)
    if values is None:
        return [default] * n
    return list(values)


def gold_list(value: Any) -> list[str]:
    """The gold answers of one row as strings (a string is one answer)."""
    if isinstance(value, str):
        return [value]
    try:
        return [str(v) for v in value]
    except TypeError:
        return []


def mask_count(value: Any) -> int:
    """``num_masks`` of one row; anything that is not a count means 0 (a QA row)."""
    try:
        return max(0, int(value or 0))
    except (TypeError, ValueError):
        return 0


def _balanced(text: str) -> bool:
    for tag in _TAGS:
        if text.count(f"<{tag}>") != text.count(f"</{tag}>"):
            return False
    return True


def format_reward(prompts: Sequence[Any], completions: Sequence[Any], **columns: Any) -> list[float]:
    """1.0: balanced tags, exactly one answer, as many fills as masks; 0.5: an answer with
    a wrong fill count or unbalanced tags; 0.0: no answer."""
    masks = column(columns, "num_masks", len(completions), 0)
    out = []
    for completion, n in zip(completions, masks):
        text, answer = completion_text(completion), extract_answer(completion)
        if not answer:
            out.append(0.0)
            continue
        ok = _balanced(text) and len(_ANSWER.findall(text)) == 1
        n = mask_count(n)
        if n > 0:
            ok = ok and len(split_fills(answer, n)) == n
        out.append(1.0 if ok else 0.5)
    return out


def _answer_metric(fn: Callable[[str, str], float], name: str) -> Reward:
    def reward(prompts: Sequence[Any], completions: Sequence[Any], **columns: Any) -> list[float]:
        golds = column(columns, "answers", len(completions), [])
        masks = column(columns, "num_masks", len(completions), 0)
        out = []
        for completion, gold, n in zip(completions, golds, masks):
            answer = extract_answer(completion)
            gold, n = gold_list(gold), mask_count(n)
            if answer is None or not gold:
                out.append(0.0)
            elif n > 0:
                out.append(per_mask(fn, split_fills(answer, n), gold))
            else:
                out.append(best_over_golds(fn, answer, gold))
        return [min(1.0, max(0.0, float(x))) for x in out]

    reward.__name__ = name
    reward.__qualname__ = name
    return reward


answer_f1 = _answer_metric(token_f1, "answer_f1")
answer_recall = _answer_metric(token_recall, "answer_recall")
answer_em = _answer_metric(exact_match, "answer_em")

# MaskSearch's hybrid: a format reward plus a token-recall answer reward.
HYBRID: list[tuple[Reward, float]] = [(format_reward, 0.2), (answer_recall, 0.8)]


def weighted(rewards: Sequence[tuple[Reward, float]], name: str = "hybrid") -> Reward:
    """One reward function: the weighted sum of ``rewards``."""

    def reward(prompts: Sequence[Any], completions: Sequence[Any], **columns: Any) -> list[float]:
        total = [0.0] * len(completions)
        for fn, w in rewards:
            for i, v in enumerate(fn(prompts, completions, **columns)):
                total[i] += w * v
        return total

    reward.__name__ = name
    reward.__qualname__ = name
    return reward


REWARDS: dict[str, Reward] = {
    "format": format_reward,
    "answer_f1": answer_f1,
    "answer_recall": answer_recall,
    "answer_em": answer_em,
}
