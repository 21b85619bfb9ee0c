"""Role protocols (batch-first) and the grounded rule-based roles.

The rule-based roles are the CPU default teacher: they plan one intent per mask from its
sentence, write keyword queries from the title and the mask's context, and fill a mask by
aligning its left/right context against the retrieved documents. They still write
``<think>`` text (from templates that say what was decided and why) so their traces have
the same shape as an LLM teacher's.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from ramp.metrics import per_mask, token_f1
from ramp.records import MASK_TOKEN, Task
from ramp.search import Hit

_WORD = re.compile(r"\w+")
_STOP = frozenset(
    "a an and are as at be but by for from had has have he her his in into is it its of on or "
    "she that the their them they this to was were which who with also after before during "
    "than then there these those when where while".split()
)


@dataclass(frozen=True)
class Plan:
    text: str
    intents: list[str]


@dataclass(frozen=True)
class Observation:
    fill: str | None  # None: not found in these documents
    note: str  # one sentence of reflection, becomes <think> text
    new_intent: str | None = None


@dataclass(frozen=True)
class RoleError:
    reason: str  # malformed_output | llm_error
    detail: str


class Planner(Protocol):
    def plan(self, tasks: Sequence[Task]) -> list[Plan | RoleError]: ...


class Rewriter(Protocol):
    def rewrite(self, items: Sequence[tuple[Task, int, str, int]]) -> list[list[str] | RoleError]:
        """(task, mask index, intent, attempt) -> candidate queries, best first."""


class Observer(Protocol):
    def observe(self, items: Sequence[tuple[Task, int, list[Hit]]]) -> list[Observation | RoleError]: ...


class Judge(Protocol):
    def judge(self, items: Sequence[tuple[list[str], list[str]]]) -> list[str | RoleError]:
        """(predicted fills, gold fills) -> "correct" | "incorrect"."""


# ----- context helpers -------------------------------------------------------------------


def mask_spans(masked_text: str, mask: str = MASK_TOKEN) -> list[tuple[int, int]]:
    spans, pos = [], masked_text.find(mask)
    while pos != -1:
        spans.append((pos, pos + len(mask)))
        pos = masked_text.find(mask, pos + 1)
    return spans


def mask_sentence(masked_text: str, index: int, mask: str = MASK_TOKEN) -> str:
    """The sentence around the ``index``-th mask (other masks kept as the mask token)."""
    start, end = mask_spans(masked_text, mask)[index]
    left = max(masked_text.rfind(". ", 0, start), masked_text.rfind("\n", 0, start))
    right_candidates = [p for p in (masked_text.find(". ", end), masked_text.find("\n", end)) if p != -1]
    right = min(right_candidates) + 1 if right_candidates else len(masked_text)
    return masked_text[left + 1 if left != -1 else 0 : right].strip()


def context_words(
    masked_text: str, index: int, n: int, mask: str = MASK_TOKEN
) -> tuple[list[str], list[str]]:
    """Up to ``n`` words left and right of the mask, stopping at another mask."""
    spans = mask_spans(masked_text, mask)
    start, end = spans[index]
    prev_end = spans[index - 1][1] if index > 0 else 0
    next_start = spans[index + 1][0] if index + 1 < len(spans) else len(masked_text)
    left = _WORD.findall(masked_text[prev_end:start])[-n:]
    right = _WORD.findall(masked_text[end:next_start])[:n]
    return left, right


def keywords(text: str, mask: str = MASK_TOKEN) -> list[str]:
    text = text.replace(mask, " ")
    seen, out = set(), []
    for w in _WORD.findall(text):
        lw = w.lower()
        if lw in _STOP or lw in seen or len(w) < 2:
            continue
        seen.add(lw)
        out.append(w)
    return out


def _anchored(words: Sequence[str]) -> str:
    return r"\W+".join(re.escape(w) for w in words)


def align_fill(
    hits: Sequence[Hit], left: Sequence[str], right: Sequence[str], max_words: int = 8
) -> tuple[str, int, int] | None:
    """The text between the mask's left and right context in a document.

    Tries the longest contexts first (more anchor words = more certain); returns
    (fill, anchor words matched, 1-based document rank) or None.
    """
    best: tuple[str, int, int] | None = None
    for n_left in range(len(left), -1, -1):
        for n_right in range(len(right), -1, -1):
            anchors = n_left + n_right
            if anchors < 2 or (best is not None and anchors <= best[1]):
                continue
            if n_left == 0 or n_right == 0:
                if anchors < 3:
                    continue
            lw, rw = list(left[len(left) - n_left :]), list(right[:n_right])
            if n_right:
                pattern = (
                    r"(?<!\w)"
                    + (_anchored(lw) + r"\W+" if lw else "")
                    + r"(?P<fill>[^\n]{1,120}?)\W+"
                    + _anchored(rw)
                    + r"(?!\w)"
                )
            else:  # mask ends its clause: take words up to punctuation
                pattern = r"(?<!\w)" + _anchored(lw) + r"\W+(?P<fill>[^.,;:()\n]{1,80})"
            regex = re.compile(pattern, re.IGNORECASE)
            for rank, hit in enumerate(hits, start=1):
                m = regex.search(hit.text)
                if not m:
                    continue
                fill = m.group("fill").strip(" ,;:()\"'")
                if fill and 1 <= len(fill.split()) <= max_words and MASK_TOKEN not in fill:
                    best = (fill, anchors, rank)
                    break
    return best


# ----- rule-based roles ------------------------------------------------------------------


class RulePlanner:
    def plan(self, tasks: Sequence[Task]) -> list[Plan | RoleError]:
        out = []
        for t in tasks:
            intents = []
            for i in range(t.num_masks):
                words = keywords(mask_sentence(t.masked_text, i, t.mask_token), t.mask_token)[:12]
                intents.append(f"{t.title}: " + " ".join(words))
            out.append(
                Plan(
                    text=(
                        f"The passage is about {t.title} and has {t.num_masks} masked span(s). "
                        f"I search for each one's sentence, starting with mask 1."
                    ),
                    intents=intents,
                )
            )
        return out


class RuleRewriter:
    """Keyword queries from the title and the mask's context, wider with each attempt."""

    def rewrite(self, items):
        out = []
        for task, index, intent, attempt in items:
            left, right = context_words(task.masked_text, index, 6, task.mask_token)
            near = keywords(" ".join(left + right))
            sentence = keywords(mask_sentence(task.masked_text, index, task.mask_token), task.mask_token)
            title = task.title
            variants = [
                " ".join([title, *near]),
                " ".join(sentence[:14]),
                " ".join([title, *sentence[:8]]),
                intent,
            ]
            seen, queries = set(), []
            for q in variants:
                q = " ".join(q.split())
                if q and q.lower() not in seen:
                    seen.add(q.lower())
                    queries.append(q)
            out.append(queries[attempt % len(queries) :] + queries[: attempt % len(queries)])
        return out


class RuleObserver:
    def __init__(self, context: int = 4, max_words: int = 8):
        self.context, self.max_words = context, max_words

    def observe(self, items):
        out = []
        for task, index, hits in items:
            left, right = context_words(task.masked_text, index, self.context, task.mask_token)
            found = align_fill(hits, left, right, self.max_words)
            around = " ".join(left[-3:]) + f" {task.mask_token} " + " ".join(right[:3])
            if found is None:
                out.append(
                    Observation(
                        None,
                        (
                            f"No document has the words around mask {index + 1} "
                            f'("{around.strip()}"); I search again with other keywords.'
                        ),
                    )
                )
            else:
                fill, anchors, rank = found
                out.append(
                    Observation(
                        fill,
                        (
                            f"Doc {rank} matches the words around mask {index + 1} "
                            f'("{around.strip()}"): mask {index + 1} is "{fill}".'
                        ),
                    )
                )
        return out


class RuleJudge:
    """Token F1 against the gold fills, averaged over masks, against a threshold."""

    def __init__(self, threshold: float = 0.8):
        self.threshold = threshold

    def judge(self, items):
        return [
            "correct" if per_mask(token_f1, pred, gold) >= self.threshold else "incorrect"
            for pred, gold in items
        ]
