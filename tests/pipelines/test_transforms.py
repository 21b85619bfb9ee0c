"""Beam composites under TestPipeline + assert_that, with the real spaCy model."""

import apache_beam as beam
import pyarrow.parquet as pq
import pytest
from apache_beam.testing.test_pipeline import TestPipeline as BeamTestPipeline
from apache_beam.testing.util import assert_that, equal_to, is_not_empty

from pipelines import sinks
from pipelines.config import DataConfig
from pipelines.transforms import REJECT, Dedupe, MaskPassages, MergeCounts
from ramp.cli import CONFIG_DIR
from ramp.config import load_config
from ramp.records import TASK_SCHEMA, Document, Passage, Reject, Span, Task


def cfg(**kw) -> DataConfig:
    """The shipped default config (it names the spaCy model), small batches."""
    overrides = [f"masking.{k}={v}" for k, v in kw.items()] + ["spacy.batch_size=4"]
    return load_config(DataConfig, CONFIG_DIR / "data" / "default.yaml", overrides)


PASSAGE = Passage(
    id="p_0",
    source_id="p",
    index=0,
    title="Marie Curie",
    text=(
        "Born in Warsaw in 1867, the physicist moved to Paris in 1891 and studied at the "
        "University of Paris. She shared the 1903 prize with Pierre and Henri Becquerel, and "
        "won a second one in chemistry in 1911 for the discovery of polonium and radium."
    ),
    num_words=43,
)


def test_dedupe_keeps_one_document_per_id_and_rejects_the_rest():
    docs = [
        Document("1", "A", "alpha", "f1"),
        Document("1", "A", "alpha", "f2"),
        Document("1", "A", "different", "f3"),
        Document("2", "B", "beta", "f1"),
    ]
    with BeamTestPipeline() as p:
        out = (
            p
            | beam.Create(docs)
            | Dedupe()
            | beam.Map(lambda r: (type(r).__name__, getattr(r, "reason", r.id)))
        )
        assert_that(
            out,
            equal_to(
                [
                    ("Document", "1"),
                    ("Document", "2"),
                    ("Reject", "duplicate_document"),
                    ("Reject", "duplicate_id"),
                ]
            ),
        )


def test_mask_passages_with_real_spacy_gives_valid_tasks():
    short = Passage(id="s_0", source_id="s", index=0, title="S", text="Too short.", num_words=2)
    with BeamTestPipeline() as p:
        result, _ = p | beam.Create([PASSAGE, short]) | MaskPassages(cfg())

        def check_tasks(tasks):
            assert len(tasks) == 1
            task = tasks[0]
            assert isinstance(task, Task)
            assert task.num_masks == task.masked_text.count("[mask]") >= 1
            assert all(PASSAGE.text[s.start : s.end] == s.text for s in task.spans)
            assert "Curie" not in task.answers  # the title is never masked

        assert_that(result.tasks, check_tasks, label="tasks")
        reasons = result[REJECT] | beam.Map(lambda r: r.reason)
        assert_that(reasons, equal_to(["passage_too_short"]), label="rejects")


def test_random_strategy_skips_spacy():
    with BeamTestPipeline() as p:
        result, _ = p | beam.Create([PASSAGE]) | MaskPassages(cfg(strategy="random"))
        assert_that(result.tasks | beam.Map(lambda t: t.strategy), equal_to(["random"]))


def test_write_shards_is_sorted_complete_and_stable(tmp_path):
    tasks = []
    for i in range(30):
        tasks.append(
            Task(
                id=f"t{i:02d}",
                source_id=f"d{i}",
                passage_id=f"d{i}_0",
                title="T",
                text="x",
                masked_text="[mask]",
                answers=("x",),
                spans=(),
                num_masks=1,
                num_candidates=1,
                strategy="salient",
                split="train" if i % 3 else "validation",
            )
        )
    for run in ("a", "b"):
        with BeamTestPipeline() as p:
            written = (
                p
                | beam.Create(list(reversed(tasks)) if run == "b" else tasks)
                | sinks.WriteShards(
                    str(tmp_path / run),
                    lambda r: r.split,
                    ["train", "validation"],
                    3,
                    shard_key=lambda r: r.source_id,
                    writer=sinks.parquet_writer(TASK_SCHEMA),
                    sort_key=lambda r: r.id,
                )
            )
            assert_that(written, is_not_empty())
    files = sorted(f.name for f in (tmp_path / "a").iterdir())
    assert files == [f"{s}-{i:05d}-of-00003.parquet" for s in ("train", "validation") for i in range(3)]
    ids = []
    for name in files:
        a, b = (tmp_path / "a" / name).read_bytes(), (tmp_path / "b" / name).read_bytes()
        assert a == b
        part = pq.read_table(tmp_path / "a" / name).column("id").to_pylist()
        assert part == sorted(part)
        ids += part
    assert sorted(ids) == [t.id for t in tasks]


def test_counts_combine():
    with BeamTestPipeline() as p:
        counts = (
            p
            | beam.Create([PASSAGE, Reject("r", "mask", "x", "", "", "s")])
            | beam.CombineGlobally(MergeCounts())
        )
        assert_that(
            counts,
            equal_to([{"passages": 1, "passage_words": 43, "rejects": 1, "rejects_by_reason/mask/x": 1}]),
        )


@pytest.mark.slow
def test_ppl_strategy_with_the_real_smollm2():
    """The ``ppl`` strategy end to end in Beam with SmolLM2-135M (converted from PyPI GGUF)."""
    with BeamTestPipeline() as p:
        result, _ = p | beam.Create([PASSAGE]) | MaskPassages(cfg(strategy="ppl"))

        def check(tasks):
            assert len(tasks) == 1 and tasks[0].strategy == "ppl"
            assert tasks[0].num_masks == tasks[0].masked_text.count("[mask]")

        assert_that(result.tasks, check)


@pytest.mark.slow
def test_span_scorer_ranks_a_surprising_span_above_a_predictable_one():
    from pipelines.ppl import SpanScorer

    c = cfg()
    scorer = SpanScorer(c.ppl)
    text = "One, two, three, four, five, six, seven. The capital of France is Paris, not Zanzibar."
    spans = [
        Span(text.index("seven"), text.index("seven") + 5, "CARDINAL", "seven"),
        Span(text.index("Zanzibar"), text.index("Zanzibar") + 8, "GPE", "Zanzibar"),
    ]
    predictable, surprising = scorer.span_losses([(text, spans)])[0]
    assert surprising > predictable
