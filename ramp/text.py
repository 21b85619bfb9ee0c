"""Text helpers shared by every stage: normalisation, word spans, stable hashes."""

from __future__ import annotations

import hashlib
import re
import string
import unicodedata

_WORD = re.compile(r"\S+")
_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCT = set(string.punctuation) | {"\u2018", "\u2019", "\u201c", "\u201d", "\u2013", "\u2014"}
_PUNCT_TO_SPACE = str.maketrans({ch: " " for ch in _PUNCT})


def normalize_answer(text: str) -> str:
    """SQuAD-style normalisation: NFKC, lower case, no punctuation, no articles, single spaces."""
    text = unicodedata.normalize("NFKC", text).lower().translate(_PUNCT_TO_SPACE)
    return " ".join(_ARTICLES.sub(" ", text).split())


def count_phrase(normalized: str, phrase: str) -> int:
    """Occurrences of a normalised phrase in a normalised text, on token boundaries.

    Both sides are outputs of :func:`normalize_answer` (tokens separated by single
    spaces), so a token boundary is a space or an end; overlapping matches count.
    """
    if not phrase:
        return 0
    hay, needle = f" {normalized} ", f" {phrase} "
    count, pos = 0, hay.find(needle)
    while pos != -1:
        count += 1
        pos = hay.find(needle, pos + 1)
    return count


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
