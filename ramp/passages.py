"""Split documents into ~N-word passages (the wiki-18 / DPR convention)."""

from __future__ import annotations

from collections.abc import Iterator

from ramp.records import Document, Passage
from ramp.text import stable_hash


def passage_id(source_id: str, index: int) -> str:
    """Deterministic passage id from (document id, passage index)."""
    return f"{source_id}_{index}"


MODES = ("sentences", "paragraphs", "words")
# words ending in "." that do not end a sentence (lower case, the final "." removed)
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr st jr sr prof gen col lt sgt capt gov sen rep rev hon inc ltd co corp no nos vs "
    "etc e.g i.e cf c ca approx fig figs vol vols pp ed eds u.s u.k u.n mt ft b d fl r op al "
    "jan feb mar apr jun jul aug sep sept oct nov dec".split()
)
_CLOSERS = "\"')]\u201d\u2019"


def _ends_sentence(word: str, following: str) -> bool:
    core = word.rstrip(_CLOSERS)
    if not core or core[-1] not in ".!?":
        return False
    bare = core[:-1].lstrip("\"'([\u201c\u2018")
    if core[-1] == "." and (bare.lower() in _ABBREVIATIONS or (len(bare) == 1 and bare.isupper())):
        return False  # "Dr.", "(b." or an initial "J."
    head = following.lstrip("\"'(\u201c\u2018[")
    return bool(head) and (head[0].isupper() or head[0].isdigit())


def sentences(text: str) -> list[list[str]]:
    """Sentences as word lists, by a fast rule splitter: a line break ends a sentence, and so
    does ``.``, ``!`` or ``?`` (closing quotes and brackets after it allowed) before a word
    that starts with a capital or a digit, except after an abbreviation or an initial."""
    out: list[list[str]] = []
    for line in text.splitlines():
        words = line.split()
        current: list[str] = []
        for i, word in enumerate(words):
            current.append(word)
            if i + 1 < len(words) and _ends_sentence(word, words[i + 1]):
                out.append(current)
                current = []
        if current:
            out.append(current)
    return out


def _chunks(doc: Document, mode: str, words_per_passage: int) -> list[list[str]]:
    if mode == "words":
        words = doc.text.split()
        return [words[i : i + words_per_passage] for i in range(0, len(words), words_per_passage)]
    if mode == "paragraphs":
        return [line.split() for line in doc.text.splitlines() if line.split()]
    if mode != "sentences":
        raise ValueError(f"passages.mode: unknown {mode!r}; choose from {', '.join(MODES)}")
    chunks: list[list[str]] = []
    current: list[str] = []
    for sentence in sentences(doc.text):
        if current and len(current) + len(sentence) > words_per_passage:
            chunks.append(current)
            current = []
        current = current + sentence
    if current:
        chunks.append(current)
    return chunks


def split_passages(doc: Document, words_per_passage: int = 100, mode: str = "words") -> Iterator[Passage]:
    """A document's passages, ids ``{document id}_{index}`` (wiki-18's) in every mode:

    - ``words``: consecutive windows of ``words_per_passage`` words, as DPR's wiki-18 (the
      last one may be shorter); sentences are cut at the window edges;
    - ``sentences``: whole sentences (:func:`sentences`) packed up to ``words_per_passage``
      words, never cutting one (a longer sentence is a passage of its own);
    - ``paragraphs``: one passage per paragraph (line), as MaskSearch masks paragraphs.

    Words are joined by single spaces; the title is kept on every passage, not in its text.
    """
    if words_per_passage < 1:
        raise ValueError("words_per_passage must be >= 1")
    for index, chunk in enumerate(_chunks(doc, mode, words_per_passage)):
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
