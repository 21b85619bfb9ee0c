"""Salient-span candidates from NER entities and noun chunks (pure; spaCy is wired elsewhere).

The Beam DoFn runs spaCy and hands plain ``(start, end, label)`` tuples to
:func:`salient_candidates`, which applies the type switches and the filters.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from ramp.records import Span
from ramp.text import count_phrase, normalize_answer

# spaCy OntoNotes labels grouped into the switchable types of the config.
ENTITY_LABELS = (
    "PERSON",
    "NORP",
    "FAC",
    "ORG",
    "GPE",
    "LOC",
    "PRODUCT",
    "EVENT",
    "WORK_OF_ART",
    "LAW",
    "LANGUAGE",
)
DATE_LABELS = ("DATE",)
NUMBER_LABELS = ("CARDINAL", "QUANTITY", "MONEY", "PERCENT")
TERM_LABEL = "TERM"

_LEADING_ARTICLES = ("the ", "a ", "an ", "The ", "A ", "An ")
# Hedges spaCy folds into DATE/CARDINAL spans ("about 1945"): not part of the answer.
_LEADING_HEDGES = (
    "about ",
    "around ",
    "approximately ",
    "roughly ",
    "some ",
    "over ",
    "nearly ",
    "almost ",
    "more than ",
    "less than ",
    "fewer than ",
    "up to ",
    "at least ",
    "circa ",
    "c. ",
    "only ",
    "just ",
    "by ",
    "since ",
    "until ",
    "in ",
)
_EDGE_PUNCT = " \t\n,.;:!?\"'()[]{}\u201c\u201d\u2018\u2019"


@dataclass
class SpanConfig:
    """Which salient types to extract and how to filter them."""

    entities: bool = field(
        default=True,
        metadata={
            "help": "named entities: PERSON NORP FAC ORG GPE LOC PRODUCT EVENT WORK_OF_ART LAW LANGUAGE"
        },
    )
    dates: bool = field(default=True, metadata={"help": "DATE spans"})
    numbers: bool = field(default=True, metadata={"help": "numbers: CARDINAL QUANTITY MONEY PERCENT"})
    terms: bool = field(
        default=False,
        metadata={"help": 'noun chunks ("ontology terms"); turns on spaCy\'s parser, about 2x slower'},
    )
    min_chars: int = field(default=2, metadata={"help": "shorter spans (characters) are dropped"})
    max_words: int = field(default=6, metadata={"help": "longer spans (words) are dropped"})
    drop_title: bool = field(default=True, metadata={"help": "never mask the article title or a part of it"})
    extra_labels: list[str] = field(default_factory=list, metadata={"help": "more spaCy labels to extract"})

    def labels(self) -> set[str]:
        labels: set[str] = set(self.extra_labels)
        if self.entities:
            labels.update(ENTITY_LABELS)
        if self.dates:
            labels.update(DATE_LABELS)
        if self.numbers:
            labels.update(NUMBER_LABELS)
        return labels

    def needs_ner(self) -> bool:
        return bool(self.labels())


def trim_span(text: str, start: int, end: int) -> tuple[int, int]:
    """Shrink a span past edge punctuation/space and a leading article."""
    while start < end and text[start] in _EDGE_PUNCT:
        start += 1
    while end > start and text[end - 1] in _EDGE_PUNCT:
        end -= 1
    for prefix in (_LEADING_HEDGES, _LEADING_ARTICLES):
        for word in prefix:
            if text.startswith(word, start) and end - start > len(word):
                start += len(word)
                break
    # A possessive "'s" is not part of the name.
    if text.endswith("'s", start, end) or text.endswith("\u2019s", start, end):
        end -= 2
    return start, end


def _in_title(norm_span: str, norm_title: str) -> bool:
    return count_phrase(norm_title, norm_span) > 0


def salient_candidates(
    text: str,
    title: str,
    entities: Iterable[tuple[int, int, str]],
    noun_chunks: Iterable[tuple[int, int]],
    cfg: SpanConfig,
) -> list[Span]:
    """Filtered, non-overlapping candidate spans sorted by start offset.

    Drops: labels switched off, the title (or a part of it), spans shorter than
    ``min_chars`` or longer than ``max_words``, spans across lines, and terms that
    overlap an entity.
    """
    labels = cfg.labels()
    norm_title = normalize_answer(title)
    raw: list[tuple[int, int, str]] = [(s, e, lab) for s, e, lab in entities if lab in labels]
    if cfg.terms:
        taken = [(s, e) for s, e, _ in raw]
        for s, e in noun_chunks:
            if not any(s < te and ts < e for ts, te in taken):
                raw.append((s, e, TERM_LABEL))
    spans: list[Span] = []
    for start, end, label in raw:
        start, end = trim_span(text, start, end)
        surface = text[start:end]
        if len(surface) < cfg.min_chars or len(surface.split()) > cfg.max_words:
            continue
        if "\n" in surface:
            continue
        norm = normalize_answer(surface)
        if not norm:
            continue
        if label == TERM_LABEL and not any(ch.isalpha() for ch in norm):
            continue
        if cfg.drop_title and norm_title and _in_title(norm, norm_title):
            continue
        spans.append(Span(start=start, end=end, label=label, text=surface))
    spans.sort(key=lambda s: (s.start, s.end))
    # Remove overlaps (keep the earlier, then longer, span).
    result: list[Span] = []
    for span in spans:
        if result and span.start < result[-1].end:
            continue
        result.append(span)
    return result
