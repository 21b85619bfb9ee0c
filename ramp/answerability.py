"""Is a RAMP task answerable without its own passage? (pure; the stage is agents/answerability.py)

MaskSearch's premise is that the agent finds a masked fact by searching. A task whose answers
appear only in its own source passage teaches "find your passage and copy it", which does not
transfer to QA. For each mask we search with its context (the title and the sentence around
the mask, masks removed), hide the source passage (or the whole source article), and record
whether a top-k passage holds the answer on token boundaries.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from ramp.search import Hit
from ramp.text import count_phrase, normalize_answer

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def mask_queries(title: str, masked_text: str, mask_token: str) -> list[str]:
    """One query per mask: the title and the sentence holding the mask, every mask removed."""
    queries, pos = [], 0
    sentences = _SENTENCE_END.split(masked_text)
    for sentence in sentences:
        for _ in range(sentence.count(mask_token)):
            words = " ".join(sentence.replace(mask_token, " ").split())
            queries.append(f"{title} {words}".strip())
            pos += 1
    return queries


def holds(answer: str, hit: Hit) -> bool:
    """Does the passage contain the answer as whole tokens (SQuAD normalisation)?"""
    norm = normalize_answer(answer)
    return bool(norm) and count_phrase(normalize_answer(hit.contents), norm) > 0


def found(answers: Sequence[str], hits_per_mask: Sequence[Sequence[Hit]]) -> tuple[bool, ...]:
    """Per mask: does one of its hits hold its answer?"""
    return tuple(any(holds(a, h) for h in hits) for a, hits in zip(answers, hits_per_mask))


def rates(rows: Sequence[dict[str, Any]], column: str) -> dict[str, Any]:
    """Shares of masks and tasks answerable by ``column`` (every mask of a task for the task),
    and tasks by how many of their masks are."""
    masks = [f for r in rows for f in r[column]]
    per_task: dict[str, int] = {}
    for r in rows:
        key = f"{sum(r[column])}_of_{len(r[column])}"
        per_task[key] = per_task.get(key, 0) + 1
    return {
        "masks": len(masks),
        "masks_answerable": round(sum(masks) / len(masks), 4) if masks else 0.0,
        "tasks": len(rows),
        "tasks_answerable": round(sum(all(r[column]) for r in rows) / len(rows), 4) if rows else 0.0,
        "tasks_with_one_answerable_mask": round(sum(any(r[column]) for r in rows) / len(rows), 4)
        if rows
        else 0.0,
        "tasks_by_answerable_masks": dict(sorted(per_task.items())),
    }
