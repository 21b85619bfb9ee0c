"""Render a trace with the model's chat template to ``input_ids`` and a loss mask.

Loss goes only on what the model itself writes: the content of assistant turns (its
``<think>``, ``<search>``, ``<answer>``) and the end-of-turn marker that closes them.
Never on the prompt, a system text, a role header, or anything inside
``<information>...</information>`` (retrieved text), wherever that appears.

The template is applied to growing prefixes of the conversation, so the character range
of every assistant turn is known exactly for any chat template (ChatML, Llama, ...);
tokens are then marked by their character offsets.
"""

from __future__ import annotations

from collections.abc import Sequence

from agents.chat import render as _render
from ramp.trace import INFORMATION


def trainable_ranges(tokenizer, messages: Sequence[dict[str, str]]) -> tuple[str, list[tuple[int, int]]]:
    """The rendered text and the character ranges that get loss."""
    text = _render(tokenizer, messages)
    ranges: list[tuple[int, int]] = []
    for i, message in enumerate(messages):
        if message["role"] != "assistant":
            continue
        head = _render(tokenizer, messages[:i], generation_prompt=True)  # ... + assistant header
        upto = _render(tokenizer, messages[: i + 1])  # ... + this turn, closed
        if not (text.startswith(head) and text.startswith(upto) and upto.startswith(head)):
            raise ValueError("the chat template does not render conversations as prefixes")
        start = head.__len__()
        content_at = upto.find(message["content"], start)
        if content_at == -1:
            raise ValueError(f"assistant turn {i} is not rendered verbatim by the template")
        # The turn's content and the marker that closes it, not the trailing newline.
        end = len(upto.rstrip("\n"))
        ranges.append((content_at, end))
    # Retrieved text never gets loss, even when it sits inside an assistant turn.
    cut: list[tuple[int, int]] = []
    for start, end in ranges:
        pos = start
        for m in INFORMATION.finditer(text, start, end):
            if m.start() > pos:
                cut.append((pos, m.start()))
            pos = m.end()
        if pos < end:
            cut.append((pos, end))
    return text, cut


def render_conversation(
    tokenizer, messages: Sequence[dict[str, str]], max_length: int | None = None
) -> tuple[list[int], list[int]]:
    """``(input_ids, mask)``: mask 1 on tokens the model is trained to write, else 0."""
    text, ranges = trainable_ranges(tokenizer, messages)
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    ids, offsets = enc["input_ids"], enc["offset_mapping"]
    mask = []
    r = 0
    for start, end in offsets:
        while r < len(ranges) and ranges[r][1] <= start:
            r += 1
        inside = r < len(ranges) and ranges[r][0] <= start and end <= ranges[r][1] and end > start
        mask.append(1 if inside else 0)
    if max_length is not None:
        ids, mask = ids[:max_length], mask[:max_length]
    return list(ids), mask
