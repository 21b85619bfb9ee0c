"""Split documents into ~N-word passages (the wiki-18 / DPR convention)."""

from __future__ import annotations

from collections.abc import Iterator

from ramp.records import Document, Passage
from ramp.text import stable_hash


def passage_id(source_id: str, index: int) -> str:
    """Deterministic passage id from (document id, passage index)."""
    return f"{source_id}_{index}"


def split_passages(doc: Document, words_per_passage: int = 100) -> Iterator[Passage]:
    """Consecutive windows of ``words_per_passage`` words, joined by single spaces.

    As in DPR's wiki-18 the windows do not overlap and the last one may be shorter;
    the title is kept on every passage, not repeated in its text.
    """
    if words_per_passage < 1:
        raise ValueError("words_per_passage must be >= 1")
    words = doc.text.split()
    for index, start in enumerate(range(0, len(words), words_per_passage)):
        chunk = words[start : start + words_per_passage]
        yield Passage(
            id=passage_id(doc.id, index),
            source_id=doc.id,
            index=index,
            title=doc.title,
            text=" ".join(chunk),
            num_words=len(chunk),
        )


def wiki18_contents(title: str, text: str) -> str:
    """The wiki-18 ``contents`` field: the title in double quotes on the first line."""
    return f'"{title}"\n{text}'


def split_of(source_id: str, validation_fraction: float, seed: int = 0) -> str:
    """Stable train/validation assignment by document, so no document is in both splits."""
    if not 0.0 <= validation_fraction <= 1.0:
        raise ValueError("validation_fraction must be in [0, 1]")
    bucket = stable_hash("split", seed, source_id) % 1_000_000
    return "validation" if bucket < validation_fraction * 1_000_000 else "train"
