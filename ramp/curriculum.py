"""Curriculum stages: easy tasks first (MaskSearch orders by the number of masks).

A *measure* maps a task row to a stage number in ``1..num_stages``. New
difficulty measures (retrieval difficulty, say) are added to ``MEASURES``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

Measure = Callable[[Mapping[str, Any]], int]


def by_num_masks(task: Mapping[str, Any], num_stages: int = 4) -> int:
    """Stage k holds the tasks with k masks (more than ``num_stages`` -> the last stage)."""
    n = int(task["num_masks"])
    if n < 1:
        raise ValueError(f"task {task.get('id')!r} has {n} masks")
    return min(n, num_stages)


def by_search_need(task: Mapping[str, Any], num_stages: int = 4) -> int:
    """Stage 1 + the masks whose answer no other passage holds (``ramp answerability``'s
    ``found_elsewhere``): stage 1 can be solved across documents, later stages lean more and
    more on the task's own passage."""
    found = task.get("found_elsewhere")
    if found is None:
        raise ValueError(
            f"task {task.get('id')!r} has no found_elsewhere: run `ramp answerability` on the tasks first"
        )
    return min(1 + sum(not f for f in found), num_stages)


MEASURES: dict[str, Measure] = {"num_masks": by_num_masks, "search_need": by_search_need}


def stage_of(task: Mapping[str, Any], measure: str = "num_masks") -> int:
    try:
        fn = MEASURES[measure]
    except KeyError:
        raise ValueError(f"unknown curriculum measure {measure!r}; known: {sorted(MEASURES)}") from None
    return fn(task)
