"""The trace format (also the SFT format) and its parser.

A trace is a list of chat messages. Assistant turns hold ``<think>...</think>`` then
one action: ``<search>query</search>`` or ``<answer>fill1 | fill2</answer>`` (one fill
per ``[mask]``, in order, separated by ``" | "``). Retrieved documents come back in a
``user`` turn as ``<information>Doc 1(Title: t) text ...</information>`` (Search-R1's
convention), so every retrieved token sits outside the assistant's turns.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import pyarrow as pa

from ramp.search import Hit, format_information

FILL_SEPARATOR = " | "
# Retrieved text (a last one cut short included): never trained on, never scored.
INFORMATION = re.compile(r"<information>.*?(?:</information>|$)", re.DOTALL)
_TAG = re.compile(r"<(think|search|answer)>(.*?)(?:</\1>|$)", re.DOTALL)


@dataclass(frozen=True)
class Turn:
    """What one assistant turn says: its reasoning and exactly one action (or why not)."""

    think: str
    action: str  # "search" | "answer" | "invalid"
    content: str
    error: str = ""


def parse_turn(text: str) -> Turn:
    """Find the first ``<search>`` or ``<answer>`` (junk around tags is ignored; a last tag
    cut off by a stop string is accepted). No action, or an empty one, is ``invalid``."""
    think = ""
    for m in _TAG.finditer(text):
        tag, body = m.group(1), m.group(2).strip()
        if tag == "think":
            think = think or body
            continue
        if not body:
            return Turn(think, "invalid", "", f"empty <{tag}>")
        if "<" in body and re.search(r"</?(search|answer|think|information)>", body):
            return Turn(think, "invalid", body, f"nested tags inside <{tag}>")
        return Turn(think, tag, body)
    return Turn(think, "invalid", "", "no <search> or <answer> tag")


def split_fills(answer: str, num_masks: int) -> list[str]:
    """``"a | b"`` -> ``["a", "b"]``; a single mask takes the whole answer."""
    if num_masks <= 1:
        return [answer.strip()]
    return [p.strip() for p in answer.split("|")]


def join_fills(fills: Sequence[str]) -> str:
    return FILL_SEPARATOR.join(f.strip() for f in fills)


def information(hits: Sequence[Hit]) -> str:
    return f"<information>{format_information(hits)}</information>"


def assistant_turn(think: str, action: str, content: str) -> str:
    return f"<think>{think}</think>\n<{action}>{content}</{action}>"


MESSAGE_TYPE = pa.struct(
    [pa.field("role", pa.string(), nullable=False), pa.field("content", pa.string(), nullable=False)]
)

TRACE_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("task_id", pa.string(), nullable=False),
        pa.field("messages", pa.list_(MESSAGE_TYPE), nullable=False),
        pa.field("prediction", pa.list_(pa.string()), nullable=False),
        pa.field("answers", pa.list_(pa.string()), nullable=False),
        pa.field("f1", pa.float64(), nullable=False),
        pa.field("em", pa.float64(), nullable=False),
        pa.field("recall", pa.float64(), nullable=False),
        pa.field("judge", pa.string(), nullable=False),  # correct | incorrect
        pa.field("accepted", pa.bool_(), nullable=False),
        pa.field("num_searches", pa.int32(), nullable=False),
        pa.field("num_turns", pa.int32(), nullable=False),
        pa.field("num_masks", pa.int32(), nullable=False),
        pa.field("stage", pa.int32(), nullable=False),
        pa.field("teacher", pa.string(), nullable=False),
        pa.field("prompt_version", pa.string(), nullable=False),
    ]
)

TRACE_REJECT_SCHEMA = pa.schema(
    [
        pa.field("task_id", pa.string(), nullable=False),
        pa.field("stage", pa.string(), nullable=False),  # the role or step that failed
        pa.field("reason", pa.string(), nullable=False),
        pa.field("detail", pa.string(), nullable=False),
        pa.field("teacher", pa.string(), nullable=False),
    ]
)
