"""The retriever protocol shared by every search backend, plus pure search helpers.

Batch-first: ``search(queries, k, exclude_ids)`` answers many queries at once.
``exclude_ids[i]`` lists document ids to hide from query ``i`` (a RAMP rollout hides
the task's own source passage so the agent must find other evidence).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class Hit:
    id: str
    title: str
    contents: str  # wiki-18 form: '"Title"\ntext'
    score: float

    @property
    def text(self) -> str:
        return split_contents(self.contents)[1]


@runtime_checkable
class Retriever(Protocol):
    def search(
        self,
        queries: Sequence[str],
        k: int,
        exclude_ids: Sequence[Sequence[str]] | None = None,
    ) -> list[list[Hit]]: ...


def split_contents(contents: str) -> tuple[str, str]:
    """wiki-18 ``contents`` -> (title, text); the title line is quoted."""
    first, sep, rest = contents.partition("\n")
    if not sep:
        return "", contents
    title = first.strip()
    if len(title) >= 2 and title[0] == title[-1] == '"':
        title = title[1:-1]
    return title, rest


def check_exclude(queries: Sequence[str], exclude_ids) -> list[frozenset[str]]:
    """Per-query exclusion sets (validated)."""
    if exclude_ids is None:
        return [frozenset()] * len(queries)
    if len(exclude_ids) != len(queries) or any(isinstance(e, str) for e in exclude_ids):
        raise ValueError("exclude_ids must hold one list of ids per query")
    return [frozenset(e) for e in exclude_ids]


def format_information(hits: Sequence[Hit]) -> str:
    """Search-R1's rendering of retrieved documents: ``Doc i(Title: t) text``."""
    return "\n".join(f"Doc {i}(Title: {h.title}) {h.text}" for i, h in enumerate(hits, start=1))


def noise_probability(
    step: int, total_steps: int, p_start: float = 0.0, p_end: float = 0.5, base: float = 4.0
) -> float:
    """ZeroSearch's curriculum: p_i = p_s + (b^(i/m) - 1)/(b - 1) * (p_e - p_s).

    ``step`` i counts from 0 to ``total_steps`` m; the probability that the simulated
    engine returns noisy documents rises from ``p_start`` to ``p_end``, slowly first.
    """
    if total_steps <= 0:
        raise ValueError("total_steps must be positive")
    if base <= 0 or base == 1:
        raise ValueError("base must be positive and not 1")
    frac = min(max(step, 0), total_steps) / total_steps
    return p_start + (base**frac - 1) / (base - 1) * (p_end - p_start)
