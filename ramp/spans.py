"""Salient-span candidates from NER entities and noun chunks (pure; spaCy is wired elsewhere).

The Beam DoFn runs spaCy and hands plain ``(start, end, label)`` tuples to
:func:`salient_candidates`, which applies the type switches and the filters.
"""

from __future__ import annotations

import re
from collections import Counter
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
LLM_LABEL = "LLM"  # spans an LLM extracted (spans.extractor: llm)
EXTRACTORS = ("spacy", "llm")

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
_EDGE_PUNCT = " \t\n,.;:!?\"'()[]{}\u201c\u201d\u2018\u2019\u2013\u2014-/*#"
_GLUE = "'\u2019-\u2013"  # a span joined to a word through one of these is a fragment
_MONTHS = (
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec"
).split()
# Number words too common to be a fact worth searching for ("one of the", "two sons").
SMALL_NUMBERS = frozenset(
    "zero one two three four five six seven eight nine ten eleven twelve dozen once twice "
    "single both several few many first second third".split()
)
_STOP = frozenset(
    "of the and in on at for to by from with a an de la le du des von van der den del da di "
    "du st saint new old north south east west upper lower great".split()
)
# Country -> demonyms: the pair in one passage gives the masked one away ("Seville, Spain ...
# the [mask] navy" -> "Spanish"). A small curated map of the commonest pairs.
DEMONYMS = {
    "afghanistan": ("afghan",),
    "albania": ("albanian",),
    "algeria": ("algerian",),
    "argentina": ("argentine", "argentinian"),
    "armenia": ("armenian",),
    "australia": ("australian",),
    "austria": ("austrian",),
    "bangladesh": ("bangladeshi",),
    "belgium": ("belgian",),
    "bolivia": ("bolivian",),
    "brazil": ("brazilian",),
    "britain": ("british",),
    "bulgaria": ("bulgarian",),
    "cambodia": ("cambodian",),
    "canada": ("canadian",),
    "chile": ("chilean",),
    "china": ("chinese",),
    "colombia": ("colombian",),
    "croatia": ("croatian",),
    "cuba": ("cuban",),
    "cyprus": ("cypriot",),
    "czech republic": ("czech",),
    "denmark": ("danish",),
    "egypt": ("egyptian",),
    "england": ("english",),
    "estonia": ("estonian",),
    "ethiopia": ("ethiopian",),
    "finland": ("finnish",),
    "france": ("french",),
    "georgia": ("georgian",),
    "germany": ("german",),
    "greece": ("greek",),
    "hungary": ("hungarian",),
    "iceland": ("icelandic",),
    "india": ("indian",),
    "indonesia": ("indonesian",),
    "iran": ("iranian",),
    "iraq": ("iraqi",),
    "ireland": ("irish",),
    "israel": ("israeli",),
    "italy": ("italian",),
    "jamaica": ("jamaican",),
    "japan": ("japanese",),
    "jordan": ("jordanian",),
    "kenya": ("kenyan",),
    "korea": ("korean",),
    "latvia": ("latvian",),
    "lebanon": ("lebanese",),
    "libya": ("libyan",),
    "lithuania": ("lithuanian",),
    "malaysia": ("malaysian",),
    "mexico": ("mexican",),
    "mongolia": ("mongolian",),
    "morocco": ("moroccan",),
    "nepal": ("nepali", "nepalese"),
    "netherlands": ("dutch",),
    "new zealand": ("new zealander",),
    "nigeria": ("nigerian",),
    "norway": ("norwegian",),
    "pakistan": ("pakistani",),
    "persia": ("persian",),
    "peru": ("peruvian",),
    "philippines": ("filipino", "philippine"),
    "poland": ("polish",),
    "portugal": ("portuguese",),
    "romania": ("romanian",),
    "russia": ("russian",),
    "saudi arabia": ("saudi",),
    "scotland": ("scottish",),
    "serbia": ("serbian",),
    "singapore": ("singaporean",),
    "slovakia": ("slovak",),
    "slovenia": ("slovenian", "slovene"),
    "south africa": ("south african",),
    "spain": ("spanish",),
    "sri lanka": ("sri lankan",),
    "sweden": ("swedish",),
    "switzerland": ("swiss",),
    "syria": ("syrian",),
    "taiwan": ("taiwanese",),
    "thailand": ("thai",),
    "tibet": ("tibetan",),
    "turkey": ("turkish",),
    "ukraine": ("ukrainian",),
    "united kingdom": ("british",),
    "united states": ("american",),
    "venezuela": ("venezuelan",),
    "vietnam": ("vietnamese",),
    "wales": ("welsh",),
    "rome": ("roman",),
}
_DEMONYM_PAIRS = {d: c for c, ds in DEMONYMS.items() for d in ds}


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
    extractor: str = field(
        default="spacy",
        metadata={
            "help": "spacy: NER + the type switches | llm: MaskSearch's way, an LLM (span_llm) lists the "
            "facts that cannot be inferred from context; aligned back to offsets"
        },
    )
    prompt_version: str = field(default="v1", metadata={"help": "span_extractor.<v>.txt (extractor llm)"})
    llm_retries: int = field(
        default=2, metadata={"help": "re-asks of an unparseable LLM reply (extractor llm)"}
    )
    llm_max_tokens: int = field(default=192, metadata={"help": "reply budget per passage (extractor llm)"})
    merge_day: bool = field(
        default=True,
        metadata={"help": "join a day number to the month-year DATE after it (25 + September 1941)"},
    )
    dateless_dates: bool = field(
        default=False, metadata={"help": 'keep DATEs with no digit ("daily", "few months")'}
    )
    small_numbers: bool = field(
        default=False, metadata={"help": 'keep number words like "one", "three", "several"'}
    )
    drop_glued: bool = field(
        default=True,
        metadata={"help": "drop spans joined to a word (NER fragments: [Academy Award-]winning, dell'Orsa)"},
    )
    drop_title_words: bool = field(
        default=True, metadata={"help": "drop spans that share a content word with the article title"}
    )
    soft_leaks: bool = field(
        default=True,
        metadata={
            "help": "drop spans the passage gives away: their acronym next to them ([mask] (RIAA)), "
            "or a country / its demonym elsewhere in the passage"
        },
    )

    def labels(self) -> set[str]:
        if self.extractor == "llm":
            return {LLM_LABEL}
        labels: set[str] = set(self.extra_labels)
        if self.entities:
            labels.update(ENTITY_LABELS)
        if self.dates:
            labels.update(DATE_LABELS)
        if self.numbers:
            labels.update(NUMBER_LABELS)
        return labels

    def needs_ner(self) -> bool:
        return self.extractor == "spacy" and bool(self.labels())


def trim_span(text: str, start: int, end: int) -> tuple[int, int]:
    """Shrink a span past edge punctuation (dashes and quotes too), space, a leading article
    or hedge and a possessive, until nothing changes."""
    while True:
        before = (start, end)
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
        if (start, end) == before:
            return start, end


def merge_day(text: str, start: int, end: int) -> int:
    """The start of a DATE with the day number before it joined (``born 25 [September 1941]``
    -> ``25 September 1941``); ``start`` when there is none."""
    first = text[start:end].split(" ", 1)[0].lower().rstrip(".,")
    if first not in _MONTHS:
        return start
    m = re.search(r"(?<![\w.,])(\d{1,2})(?:st|nd|rd|th)?\s+$", text[max(0, start - 8) : start])
    return start - len(m.group(0)) if m else start


def glued(text: str, start: int, end: int) -> bool:
    """A span joined to a word: a letter or digit right at its edge, or through an apostrophe or
    a dash (``stelle dell'Orsa``, ``Academy Award-winning``)."""

    def word(i: int) -> bool:
        return 0 <= i < len(text) and text[i].isalnum()

    if word(start - 1) or word(end):
        return True
    if text[end : end + 2] in ("'s", "\u2019s") and not word(end + 2):  # a possessive
        return False
    return (end < len(text) and text[end] in _GLUE and word(end + 1)) or (
        start > 0 and text[start - 1] in _GLUE and word(start - 2)
    )


def content_words(norm: str) -> set[str]:
    return {w for w in norm.split() if w not in _STOP and len(w) > 2}


def acronym(surface: str) -> str:
    """Initials of the capitalised words (``Recording Industry Association of America`` ->
    ``RIAA``); empty for one word."""
    caps = [w[0] for w in re.findall(r"[A-Za-z][\w'\-]*", surface) if w[0].isupper()]
    return "".join(caps) if len(caps) >= 2 else ""


def soft_leak(text: str, start: int, end: int, surface: str) -> str | None:
    """Why the passage gives this span away, or None: its acronym right next to it, or the
    country of a demonym (or the demonym of a country) elsewhere in the passage."""
    abbr = acronym(surface)
    if abbr and re.search(rf"\b{re.escape(abbr)}\b", text[max(0, start - 16) : start] + text[end : end + 16]):
        return "acronym_leak"
    norm = normalize_answer(surface)
    partners = DEMONYMS.get(norm, ()) + ((_DEMONYM_PAIRS[norm],) if norm in _DEMONYM_PAIRS else ())
    if not partners:  # most spans: no passage-wide normalisation needed
        return None
    rest = normalize_answer(text[:start] + " " + text[end:])
    return "demonym_leak" if any(count_phrase(rest, p) for p in partners) else None


def _verdict(
    text: str, start: int, end: int, label: str, norm_title: str, title_words: set[str], cfg: SpanConfig
) -> str | None:
    """Why a trimmed candidate is dropped, or None to keep it (``title_words``: the content
    words of ``norm_title``, computed once per passage)."""
    surface = text[start:end]
    if len(surface) < cfg.min_chars:
        return "too_short"
    if len(surface.split()) > cfg.max_words:
        return "too_long"
    if "\n" in surface:
        return "crosses_line"
    norm = normalize_answer(surface)
    if not norm:
        return "no_text"
    if label == TERM_LABEL and not any(ch.isalpha() for ch in norm):
        return "term_without_letters"
    if label == "DATE" and not cfg.dateless_dates and not any(ch.isdigit() for ch in norm):
        return "dateless_date"
    if (
        label in NUMBER_LABELS
        and not cfg.small_numbers
        and not any(ch.isdigit() for ch in norm)
        and all(w in SMALL_NUMBERS for w in norm.split())
    ):
        return "small_number"
    if cfg.drop_glued and glued(text, start, end):
        return "glued"
    if cfg.drop_title and norm_title and _in_title(norm, norm_title):
        return "in_title"
    if cfg.drop_title_words and content_words(norm) & title_words:
        return "title_word"
    if cfg.soft_leaks:
        return soft_leak(text, start, end, surface)
    return None


def _in_title(norm_span: str, norm_title: str) -> bool:
    return count_phrase(norm_title, norm_span) > 0


def salient_candidates(
    text: str,
    title: str,
    entities: Iterable[tuple[int, int, str]],
    noun_chunks: Iterable[tuple[int, int]],
    cfg: SpanConfig,
    counts: Counter | None = None,
) -> list[Span]:
    """Filtered, non-overlapping candidate spans sorted by start offset.

    Each dropped candidate adds 1 to ``counts["span_drops/<reason>"]`` (see :func:`_verdict`;
    ``overlap`` for one inside a kept span); a day joined to its DATE adds to
    ``counts["span_fixes/merged_day"]``.
    """
    counts = counts if counts is not None else Counter()
    labels = cfg.labels()
    norm_title = normalize_answer(title)
    title_words = content_words(norm_title)
    raw: list[tuple[int, int, str]] = [(s, e, lab) for s, e, lab in entities if lab in labels]
    if cfg.merge_day:
        merged = []
        for s, e, lab in raw:
            start = merge_day(text, s, e) if lab == "DATE" else s
            if start != s:
                counts["span_fixes/merged_day"] += 1
            merged.append((start, e, lab))
        # the day's own CARDINAL (inside a merged DATE) goes
        dates = [(s, e) for s, e, lab in merged if lab == "DATE"]
        raw = [
            (s, e, lab)
            for s, e, lab in merged
            if lab == "DATE" or not any(ds <= s and e <= de for ds, de in dates)
        ]
    if cfg.terms:
        taken = [(s, e) for s, e, _ in raw]
        for s, e in noun_chunks:
            if not any(s < te and ts < e for ts, te in taken):
                raw.append((s, e, TERM_LABEL))
    spans: list[Span] = []
    for start, end, label in raw:
        start, end = trim_span(text, start, end)
        reason = _verdict(text, start, end, label, norm_title, title_words, cfg)
        if reason:
            counts[f"span_drops/{reason}"] += 1
            continue
        spans.append(Span(start=start, end=end, label=label, text=text[start:end]))
    spans.sort(key=lambda s: (s.start, s.end))
    # Remove overlaps (keep the earlier, then longer, span).
    result: list[Span] = []
    for span in spans:
        if result and span.start < result[-1].end:
            counts["span_drops/overlap"] += 1
            continue
        result.append(span)
    return result


DEFECTS = ("split_date", "dateless_date", "edge_punctuation", "glued", "title_word")


def mask_defects(title: str, masked_text: str, mask_token: str, spans: list[dict]) -> list[list[str]]:
    """The mechanical defects of each mask of a task (the issue-13 scan, independent of the
    rules above where it can be): a DATE split from its day or year, a DATE with no digit,
    punctuation at an answer's edge, a mask glued to a word, an answer sharing a content word
    with the title. ``spans``: the task's span rows (``text``, ``label``)."""
    out, pos = [], -1
    norm_title = content_words(normalize_answer(title))
    for span in spans:
        pos = masked_text.find(mask_token, pos + 1)
        before, after = masked_text[max(0, pos - 12) : pos], masked_text[pos + len(mask_token) :][:12]
        answer, found = span["text"], []
        first = answer.split(" ", 1)[0].lower().rstrip(".,")
        last = answer.rsplit(" ", 1)[-1].lower().rstrip(".,")
        if span["label"] == "DATE" and (
            (first in _MONTHS and re.search(r"(?<![\w.,])\d{1,2}(?:st|nd|rd|th)?\s+$", before))
            or (last in _MONTHS and re.match(r",?\s+\d{3,4}\b", after))
        ):
            found.append("split_date")
        if span["label"] == "DATE" and not any(ch.isdigit() for ch in answer):
            found.append("dateless_date")
        if answer[:1] in _EDGE_PUNCT or answer[-1:] in _EDGE_PUNCT:
            found.append("edge_punctuation")
        joined = before + mask_token + after
        if glued(joined, len(before), len(before) + len(mask_token)):
            found.append("glued")
        if content_words(normalize_answer(answer)) & norm_title:
            found.append("title_word")
        out.append(found)
    return out


def parse_entity_list(reply: str) -> list[str] | None:
    """The JSON list of strings in an LLM reply (the first ``[...]`` in it), or None."""
    import json

    m = re.search(r"\[.*?\]", reply, re.DOTALL)
    if not m:
        return None
    try:
        items = json.loads(m.group(0))
    except ValueError:
        return None
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        return None
    return [i.strip() for i in items if i.strip()]


def align_entities(text: str, entities: list[str]) -> tuple[list[tuple[int, int, str]], int]:
    """LLM-listed entities as ``(start, end, "LLM")`` offsets of their first occurrence in
    ``text`` (exact, else case-insensitive), and how many could not be found."""
    out, missing, lower = [], 0, text.lower()
    for entity in entities:
        start = text.find(entity)
        if start == -1:
            start = lower.find(entity.lower())
        if start == -1:
            missing += 1
            continue
        span = (start, start + len(entity), LLM_LABEL)
        if span not in out:
            out.append(span)
    return out, missing
