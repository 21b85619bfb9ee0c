"""Text helpers shared by every stage: normalisation, word spans, stable hashes."""

from __future__ import annotations

import hashlib
import re
import string
import unicodedata
from collections.abc import Iterator

_WORD = re.compile(r"\S+")
_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCT = set(string.punctuation) | {"\u2018", "\u2019", "\u201c", "\u201d", "\u2013", "\u2014"}


def normalize_answer(text: str) -> str:
    """SQuAD-style normalisation: NFKC, lower case, no punctuation, no articles, single spaces."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = "".join(" " if ch in _PUNCT else ch for ch in text)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def word_spans(text: str) -> list[tuple[int, int]]:
    """Character offsets of whitespace-separated words."""
    return [(m.start(), m.end()) for m in _WORD.finditer(text)]


def count_words(text: str) -> int:
    return sum(1 for _ in _WORD.finditer(text))


def stable_hash(*parts: object) -> int:
    """A 64-bit hash of the parts that is the same on every machine and Python run."""
    digest = hashlib.blake2b("\x1f".join(map(str, parts)).encode("utf-8"), digest_size=8)
    return int.from_bytes(digest.digest(), "big")


def content_id(*parts: object, length: int = 16) -> str:
    """A hex id derived from content (the parts), ``length`` hex digits."""
    digest = hashlib.blake2b("\x1f".join(map(str, parts)).encode("utf-8"), digest_size=16)
    return digest.hexdigest()[:length]


def find_word_bounded(haystack: str, needle: str) -> Iterator[int]:
    """Start offsets of ``needle`` in ``haystack`` at word boundaries (both normalised by caller)."""
    if not needle:
        return
    pattern = re.compile(r"(?<!\w)" + re.escape(needle) + r"(?!\w)")
    for m in pattern.finditer(haystack):
        yield m.start()
