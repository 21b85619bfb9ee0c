"""Leak filter: the final check a masked passage must pass to become a task.

Each rule returns a reason code (recorded on the dead-letter row) or ``None``.
The rules, in the order they are checked:

``span_mismatch``    an answer is not exactly ``text[start:end]`` (a bug guard)
``mask_count``       the number of mask tokens differs from the number of answers
``starts_with_mask`` the masked passage begins with a mask (no left context at all)
``masks_touch``      two masks are separated only by spaces/punctuation
``answer_leak``      an answer, normalised, still appears word-bounded in the unmasked
                     rest of the passage, or one of its name words does (the surname
                     of a masked full name, "San" of a masked "San Lorenzo")
``too_much_masked``  masked words exceed ``max_mask_fraction`` of the passage
``duplicate_answer`` two masks have the same normalised answer (ambiguous order)
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from ramp.records import Span
from ramp.text import count_phrase, count_words, normalize_answer

_HAS_WORD = re.compile(r"\w")


@dataclass
class LeakConfig:
    max_mask_fraction: float = field(
        default=0.4, metadata={"help": "reject a task with more of its passage's words masked"}
    )


@dataclass(frozen=True)
class Verdict:
    reason: str
    detail: str


def spans_touch(text: str, left: Span, right: Span) -> bool:
    """True when nothing word-like stands between two spans (``[mask] , [mask]``)."""
    between = text[left.end : right.start]
    return _HAS_WORD.search(between) is None


# Capitalised words that do not identify a name on their own.
_NAME_STOP = {
    "the",
    "of",
    "and",
    "for",
    "in",
    "on",
    "at",
    "to",
    "by",
    "with",
    "from",
    "de",
    "la",
    "le",
    "del",
    "der",
    "van",
    "von",
    "da",
    "di",
    "du",
    "new",
    "north",
    "south",
    "east",
    "west",
    "saint",
    "united",
    "national",
    "university",
    "river",
    "city",
    "state",
}


def name_words(answer: str) -> list[str]:
    """Normalised capitalised words of a multi-word answer that identify it on their own."""
    words = answer.split()
    if len(words) < 2:
        return []
    out = []
    for word in words:
        norm = normalize_answer(word)
        if len(norm) >= 3 and word[:1].isupper() and norm.isalpha() and norm not in _NAME_STOP:
            out.append(norm)
    return out


def leaked(visible_text: str, answer: str, allowed: str = "") -> str | None:
    """What of ``answer`` is readable in ``visible_text`` (normalised, token-bounded), if anything.

    ``allowed`` is text known to be masked inside ``visible_text`` (the span itself, when
    the caller passes the unmasked passage): occurrences inside it do not count.
    """
    return readable(normalize_answer(visible_text), answer, normalize_answer(allowed))


def readable(norm_visible: str, answer: str, norm_allowed: str = "") -> str | None:
    """:func:`leaked` on already normalised texts (the hot path of span selection)."""
    for needle in [normalize_answer(answer), *name_words(answer)]:
        if count_phrase(norm_visible, needle) > count_phrase(norm_allowed, needle):
            return needle
    return None


def leaks(masked_text: str, answer: str, mask_token: str) -> str | None:
    """The leaked part of ``answer`` when it is still readable in ``masked_text``."""
    return leaked(masked_text.replace(mask_token, " \u2022 "), answer)


def check_task(
    text: str,
    masked_text: str,
    spans: Sequence[Span],
    mask_token: str,
    cfg: LeakConfig,
) -> Verdict | None:
    """The first rule a masked passage breaks, or ``None`` when it is a good task."""
    for span in spans:
        if text[span.start : span.end] != span.text:
            return Verdict("span_mismatch", f"span {span} is not text[start:end]")
    if masked_text.count(mask_token) != len(spans):
        return Verdict("mask_count", f"{masked_text.count(mask_token)} mask tokens for {len(spans)} answers")
    if masked_text.lstrip().startswith(mask_token):
        return Verdict("starts_with_mask", "the masked passage begins with a mask")
    ordered = sorted(spans, key=lambda s: s.start)
    for left, right in zip(ordered, ordered[1:]):
        if spans_touch(text, left, right):
            return Verdict("masks_touch", f"{left.text!r} and {right.text!r} are adjacent")
    for span in spans:
        part = leaks(masked_text, span.text, mask_token)
        if part is not None:
            return Verdict("answer_leak", f"answer {span.text!r} still readable as {part!r}")
    masked_words = sum(count_words(s.text) for s in spans)
    total = count_words(text)
    if total and masked_words / total > cfg.max_mask_fraction:
        return Verdict("too_much_masked", f"{masked_words}/{total} words masked > {cfg.max_mask_fraction}")
    norms = [normalize_answer(s.text) for s in spans]
    if len(set(norms)) != len(norms):
        return Verdict("duplicate_answer", "two masks share the same normalised answer")
    return None
