"""ZeroSearch's simulator data, pure: query -> documents pairs taken from real search
trajectories, labelled by the trajectory's outcome.

ZeroSearch fine-tunes an LLM to act as the search engine: the documents a real engine returned
to a trajectory that reached the right answer are *useful* examples, those returned to a
trajectory that reached a wrong one are *noisy*. The simulator's prompt names the mode, the
question and its gold answer, and the query; its target is the documents, one ``Doc N:`` line
each (what :func:`agents.search.simulated.parse_documents` reads back).

Label rule (``label_by``): ``judge`` = the trace's judge verdict (``correct`` -> useful), or
``f1`` = its mean per-mask token F1 >= ``f1_threshold``. ``has_gold`` records, apart from the
label, whether the documents contain a gold answer (normalised substring).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import pyarrow as pa

from ramp.text import content_id, normalize_answer
from ramp.trace import INFORMATION, MESSAGE_TYPE, parse_turn

_DOC = re.compile(r"Doc (\d+)\(Title: (.*?)\) ", re.DOTALL)
LABELS = ("useful", "noisy")


@dataclass
class Pair:
    """One search of one trajectory: what was asked, what the real engine returned."""

    query: str
    documents: list[str]  # "Title: text" per retrieved document, in rank order
    turn: int  # the assistant turn that searched (0-based)


def parse_information(block: str) -> list[str]:
    """The documents of one ``<information>`` block (Search-R1's ``Doc i(Title: t) text``),
    each as ``"t: text"``."""
    body = block.strip()
    body = body.removeprefix("<information>").removesuffix("</information>")
    marks = list(_DOC.finditer(body))
    docs = []
    for m, nxt in zip(marks, [*marks[1:], None]):
        text = body[m.end() : nxt.start() if nxt else len(body)].strip()
        if text:
            docs.append(f"{m.group(2).strip()}: {text}")
    return docs


def search_pairs(messages: Sequence[dict]) -> list[Pair]:
    """Every ``<search>`` turn followed by the ``<information>`` turn that answered it."""
    pairs = []
    for i, (m, nxt) in enumerate(zip(messages, messages[1:])):
        if m["role"] != "assistant" or nxt["role"] != "user":
            continue
        turn = parse_turn(m["content"])
        block = INFORMATION.search(nxt["content"])
        if turn.action == "search" and block:
            pairs.append(
                Pair(
                    turn.content,
                    parse_information(block.group(0)),
                    sum(x["role"] == "assistant" for x in messages[:i]),
                )
            )
    return pairs


def label(judge: str, f1: float, label_by: str = "judge", f1_threshold: float = 0.8) -> str:
    if label_by == "judge":
        return "useful" if judge == "correct" else "noisy"
    if label_by == "f1":
        return "useful" if f1 >= f1_threshold else "noisy"
    raise ValueError(f"label_by must be judge or f1, not {label_by!r}")


def clip_words(document: str, max_words: int) -> str:
    """The first ``max_words`` words (0 = all)."""
    words = document.split()
    return " ".join(words[:max_words] if max_words else words)


def has_gold(documents: Sequence[str], golds: Sequence[str]) -> bool:
    text = f" {normalize_answer(' '.join(documents))} "
    return any(f" {g} " in text for g in (normalize_answer(x) for x in golds) if g)


def question_of(prompt: str) -> str:
    """The question a task prompt carries: the masked passage (RAMP) or the question (QA)."""
    for marker in ("Passage:", "Question:"):
        if marker in prompt:
            return prompt.rsplit(marker, 1)[1].strip()
    return prompt.strip()


def render_documents(documents: Sequence[str]) -> str:
    """The simulator's target: one ``Doc N:`` line per document."""
    return "\n".join(f"Doc {i}: {' '.join(d.split())}" for i, d in enumerate(documents, start=1))


def split_of(task_id: str, validation: float, seed: int) -> str:
    """train / validation by source task (every pair of a task on one side), from its id."""
    bucket = int(content_id("simulator-split", seed, task_id), 16) % 10_000
    return "validation" if bucket < validation * 10_000 else "train"


SIMULATOR_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),  # content id of (task, query, documents, label)
        pa.field("task_id", pa.string(), nullable=False),
        pa.field("trace_id", pa.string(), nullable=False),
        pa.field("split", pa.string(), nullable=False),  # train | validation (by task)
        pa.field("label", pa.string(), nullable=False),  # useful | noisy (the trajectory's outcome)
        pa.field("has_gold", pa.bool_(), nullable=False),  # the documents contain a gold answer
        pa.field("question", pa.string(), nullable=False),
        pa.field("answer", pa.string(), nullable=False),  # the gold shown to the simulator
        pa.field("query", pa.string(), nullable=False),
        pa.field("documents", pa.list_(pa.string()), nullable=False),
        pa.field("messages", pa.list_(MESSAGE_TYPE), nullable=False),  # simulator prompt + documents
        pa.field("trace_f1", pa.float64(), nullable=False),
        pa.field("trace_judge", pa.string(), nullable=False),
        pa.field("teacher", pa.string(), nullable=False),  # who searched: the source traces' teacher
        pa.field("prompt_version", pa.string(), nullable=False),
    ]
)
