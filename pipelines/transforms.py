"""DoFns and composites of the data pipeline. Each only wires functions from ``ramp``."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator

import apache_beam as beam

from pipelines.config import DataConfig
from ramp.masking import mask_passage, precheck
from ramp.masking import reject_passage as reject
from ramp.records import Document, Passage, Reject, Task, excerpt
from ramp.spans import align_entities, salient_candidates
from ramp.text import content_id

REJECT = "rejects"
SPAN_COUNTS = "span_counts"  # a Counter per batch: span_drops/<reason>, span_fixes/<fix>


class SplitRecords(beam.DoFn):
    """Route ``Reject`` records to the ``rejects`` output, everything else to main."""

    def process(self, record):
        if isinstance(record, Reject):
            yield beam.pvalue.TaggedOutput(REJECT, record)
        else:
            yield record


def pick_unique(doc_id: str, docs: Iterable[Document]) -> Iterator[Document | Reject]:
    """Keep one document per id (the one with the smallest content hash); reject the rest."""
    ranked = sorted(docs, key=lambda d: (content_id(d.title, d.text, d.source), d.source))
    yield ranked[0]
    for dup in ranked[1:]:
        same = dup.text == ranked[0].text and dup.title == ranked[0].title
        yield Reject(
            id=f"{dup.source}:{doc_id}:{content_id(dup.title, dup.text)}",
            stage="read",
            reason="duplicate_document" if same else "duplicate_id",
            detail=f"document id {doc_id!r} already read from {ranked[0].source}",
            excerpt=excerpt(dup.text),
            source=dup.source,
        )


class Dedupe(beam.PTransform):
    """One document per id. The shuffle also spreads documents over the workers."""

    def expand(self, docs):
        return (
            docs
            | "ById" >> beam.Map(lambda d: (d.id, d))
            | "Group" >> beam.GroupByKey()
            | "Pick" >> beam.FlatMapTuple(pick_unique)
        )


class SpacyCandidates(beam.DoFn):
    """Batches of passages -> (passage, salient candidate spans). spaCy loads in setup."""

    def __init__(self, cfg: DataConfig):
        self.cfg = cfg
        self.nlp = None

    def setup(self):
        from pipelines.nlp import components_for, load_spacy

        self.nlp = load_spacy(self.cfg.spacy.model, components_for(self.cfg.spans))

    def process(self, batch: list[Passage]):
        from pipelines.nlp import extract

        texts = [p.text for p in batch]
        parsed = extract(self.nlp, texts, self.cfg.spacy.batch_size, self.cfg.spans.terms)
        counts: Counter = Counter()
        for passage, (ents, chunks) in zip(batch, parsed):
            yield (
                passage,
                salient_candidates(passage.text, passage.title, ents, chunks, self.cfg.spans, counts),
            )
        yield beam.pvalue.TaggedOutput(SPAN_COUNTS, counts)


class LlmCandidates(beam.DoFn):
    """Batches of passages -> (passage, candidate spans) listed by an LLM, MaskSearch's way
    (``spans.extractor: llm``), or a reject when its reply cannot be used. One batched LLM call
    per bundle and attempt; the backend loads in setup."""

    def __init__(self, cfg: DataConfig):
        self.cfg = cfg
        self.llm = self.prompt = None

    def setup(self):
        from agents.llm import make_llm
        from agents.prompts import load

        self.llm = make_llm(self.cfg.span_llm)
        self.prompt = load("span_extractor", self.cfg.spans.prompt_version)

    def process(self, batch: list[Passage]):
        from pipelines.nlp import llm_entities

        spans_cfg, counts = self.cfg.spans, Counter()
        replies = llm_entities(self.llm, self.prompt, batch, spans_cfg.llm_retries, spans_cfg.llm_max_tokens)
        for passage, got in zip(batch, replies):
            if isinstance(got, str):
                yield reject(passage, "llm_span_error", got)
                continue
            entities, missing = align_entities(passage.text, got)
            counts["span_drops/llm_unaligned"] += missing
            if got and not entities:
                yield reject(passage, "llm_spans_unaligned", f"none of {got[:5]} is in the passage")
                continue
            yield passage, salient_candidates(passage.text, passage.title, entities, [], spans_cfg, counts)
        yield beam.pvalue.TaggedOutput(SPAN_COUNTS, counts)


class PplLosses(beam.DoFn):
    """(passage, candidates) batches -> (passage, candidates, loss per candidate)."""

    def __init__(self, cfg: DataConfig):
        self.cfg = cfg
        self.scorer = None

    def setup(self):
        from pipelines.ppl import SpanScorer

        self.scorer = SpanScorer(self.cfg.ppl)

    def process(self, batch):
        losses = self.scorer.span_losses([(p.text, c) for p, c in batch])
        for (passage, candidates), loss in zip(batch, losses):
            yield passage, candidates, loss


def mask_one(item: tuple | Reject, cfg: DataConfig) -> Task | Reject:
    if isinstance(item, Reject):  # the span extractor gave up on this passage
        return item
    passage, candidates, *rest = item
    losses = rest[0] if rest else None
    return mask_passage(passage, candidates, cfg.masking, cfg.seed, losses)


class MaskPassages(beam.PTransform):
    """Passages -> (tasks and rejects, span counts), by the configured strategy."""

    def __init__(self, cfg: DataConfig):
        super().__init__()
        self.cfg = cfg

    def expand(self, passages):
        cfg = self.cfg
        size = cfg.spacy.batch_size
        # the passage-level rules (length first) run before any model: one 1.7 M-character
        # page with no spaces made spaCy raise E088 and aborted the whole run
        passages, failed = passages | "Precheck" >> beam.Partition(
            lambda p, _, m: 0 if precheck(p, m) is None else 1, 2, cfg.masking
        )
        if cfg.masking.strategy == "random":
            items = passages | "NoSpans" >> beam.Map(lambda p: (p, []))
            span_counts = passages.pipeline | "NoSpanCounts" >> beam.Create([])
        else:
            spans = (
                passages
                | "Batch" >> beam.BatchElements(min_batch_size=size, max_batch_size=size)
                | "Spans"
                >> beam.ParDo(
                    LlmCandidates(cfg) if cfg.spans.extractor == "llm" else SpacyCandidates(cfg)
                ).with_outputs(SPAN_COUNTS, main="items")
            )
            items, span_counts = spans.items, spans[SPAN_COUNTS]
        gave_up = passages.pipeline | "NoExtractorRejects" >> beam.Create([])
        if cfg.masking.strategy == "ppl" and cfg.spans.extractor == "llm":  # rejects skip the LM
            items, gave_up = items | "ExtractorRejects" >> beam.Partition(
                lambda x, _: 1 if isinstance(x, Reject) else 0, 2
            )
        if cfg.masking.strategy == "ppl":
            items = (
                items
                | "BatchPpl"
                >> beam.BatchElements(min_batch_size=cfg.ppl.batch_size, max_batch_size=cfg.ppl.batch_size)
                | "Losses" >> beam.ParDo(PplLosses(cfg))
            )
        failed = failed | "NoModel" >> beam.Map(lambda p: (p, []))  # mask_one rejects them
        routed = (
            (items, failed, gave_up)
            | "Join" >> beam.Flatten()
            | "Mask" >> beam.Map(mask_one, cfg)
            | "Route" >> beam.ParDo(SplitRecords()).with_outputs(REJECT, main="tasks")
        )
        return routed, span_counts


def summary(record) -> Counter:
    """The counts one record contributes to ``stats.json``."""
    c: Counter = Counter()
    if isinstance(record, Task):
        c["tasks"] += 1
        c[f"split/{record.split}"] += 1
        c[f"masks_per_task/{record.num_masks}"] += 1
        for span in record.spans:
            c[f"labels/{span.label}"] += 1
    elif isinstance(record, Reject):
        c["rejects"] += 1
        c[f"rejects_by_reason/{record.stage}/{record.reason}"] += 1
    elif isinstance(record, Passage):
        c["passages"] += 1
        c["passage_words"] += record.num_words
    elif isinstance(record, Document):
        c["documents"] += 1
    elif isinstance(record, Counter):  # span counts of one batch
        c.update(record)
    return c


class MergeCounts(beam.CombineFn):
    def create_accumulator(self):
        return Counter()

    def add_input(self, acc, record):
        acc.update(summary(record))
        return acc

    def merge_accumulators(self, accs):
        total = Counter()
        for acc in accs:
            total.update(acc)
        return total

    def extract_output(self, acc):
        return dict(sorted(acc.items()))
