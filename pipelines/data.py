"""``ramp data``: the Beam pipeline from Wikipedia files to RAMP task Parquet.

Layout written under ``output``::

    passages/passages-*.parquet   every passage (PASSAGE_SCHEMA)
    corpus.jsonl                  the same passages in wiki-18 form, for the retrievers
    tasks/{train,validation}-*.parquet
    rejects/rejects-*.parquet     dead letters: id, stage, reason, detail, excerpt
    stats.json                    counts, rejects by reason, masks histogram, label mix, timing
    README.md                     Hub dataset card

The pipeline writes into ``output/_staging`` and swaps results in only after it
succeeded, so a killed run leaves the previous output (or none) and a rerun
rebuilds the same bytes. The swap itself is several renames (an object store has no
directory rename), so it starts by writing ``output/_INCOMPLETE`` and ends by deleting
it: readers refuse a directory that holds the marker (:func:`ramp.records.check_complete`)
instead of mixing new tasks with an old corpus.
"""

from __future__ import annotations

import json
import shlex
import sys
import time
from typing import Any

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import PipelineOptions

from pipelines import card, nlp, sinks
from pipelines.config import DataConfig
from pipelines.readers import expand_inputs, read_path, source_names
from pipelines.transforms import REJECT, Dedupe, MaskPassages, MergeCounts, SplitRecords
from ramp.passages import MODES, split_passages
from ramp.records import INCOMPLETE, REJECT_SCHEMA, TASK_SCHEMA
from ramp.spans import EXTRACTORS

STAGING = "_staging"
OUTPUT_DIRS = ("passages", "tasks", "rejects")


def pipeline_options(cfg: DataConfig) -> PipelineOptions:
    """DirectRunner (multi-process for ``num_workers > 1``) unless Beam args name a runner."""
    args = list(cfg.beam_args)
    if not any(a.startswith("--runner") for a in args):
        mode = "multi_processing" if cfg.num_workers > 1 else "in_memory"
        args += [
            "--runner=DirectRunner",
            f"--direct_num_workers={cfg.num_workers}",
            f"--direct_running_mode={mode}",
        ]
    return PipelineOptions(args)


def build(p: beam.Pipeline, cfg: DataConfig, paths: list[str], staging: str) -> None:
    records = (
        p
        | "Files" >> beam.Create(sorted(source_names(paths).items()))
        | "Read" >> beam.FlatMap(lambda item, limit: read_path(*item, limit=limit), cfg.limit)
        | "RouteRead" >> beam.ParDo(SplitRecords()).with_outputs(REJECT, main="docs")
    )
    unique = (
        records.docs
        | "Dedupe" >> Dedupe()
        | "RouteDup" >> beam.ParDo(SplitRecords()).with_outputs(REJECT, main="docs")
    )
    passages = unique.docs | "Passages" >> beam.FlatMap(split_passages, cfg.passages.words, cfg.passages.mode)
    masked, span_counts = passages | "Mask" >> MaskPassages(cfg)
    rejects = (records[REJECT], unique[REJECT], masked[REJECT]) | "AllRejects" >> beam.Flatten()

    join = FileSystems.join
    passages | "WritePassages" >> sinks.WriteShards(
        join(staging, "passages"),
        lambda _: "passages",
        ["passages"],
        cfg.shards,
        shard_key=lambda r: r.source_id,
        writer=sinks.passage_writer(join(staging, "passages"), join(staging, "corpus")),
        sort_key=lambda r: (r.source_id, r.index),
    )
    masked.tasks | "WriteTasks" >> sinks.WriteShards(
        join(staging, "tasks"),
        lambda r: r.split,
        ["train", "validation"],
        cfg.shards,
        shard_key=lambda r: r.source_id,
        writer=sinks.parquet_writer(TASK_SCHEMA),
        sort_key=lambda r: r.id,
    )
    rejects | "WriteRejects" >> sinks.WriteShards(
        join(staging, "rejects"),
        lambda _: "rejects",
        ["rejects"],
        cfg.shards,
        shard_key=lambda r: r.id,
        writer=sinks.parquet_writer(REJECT_SCHEMA),
        sort_key=lambda r: (r.stage, r.id, r.reason),
    )
    (
        (unique.docs, passages, masked.tasks, rejects, span_counts)
        | "Everything" >> beam.Flatten()
        | "Count" >> beam.CombineGlobally(MergeCounts())
        | "CountsJson" >> beam.Map(json.dumps, sort_keys=True)
        | "WriteCounts" >> beam.Map(_write_text, join(staging, "counts.json"))
    )


def _write_text(text: str, path: str) -> None:
    with FileSystems.create(path) as out:
        out.write(text.encode("utf-8"))


def _read_text(path: str) -> str:
    with FileSystems.open(path) as f:
        return f.read().decode("utf-8")


def _delete_tree(path: str) -> None:
    if FileSystems.exists(path):
        FileSystems.delete([path])


def _files(directory: str) -> list[str]:
    pattern = FileSystems.join(directory, "*")
    return sorted(m.path for r in FileSystems.match([pattern]) for m in r.metadata_list)


def stats_from_counts(
    counts: dict[str, int], cfg: DataConfig, seconds: float, command: str
) -> dict[str, Any]:
    """The ``stats.json`` document (counts grouped, with the invariant spelled out)."""

    def group(prefix: str) -> dict[str, int]:
        return {k[len(prefix) :]: v for k, v in counts.items() if k.startswith(prefix)}

    rejects = group("rejects_by_reason/")
    read_rejects = sum(v for k, v in rejects.items() if k.startswith("read/"))
    passages = counts.get("passages", 0)
    tasks = counts.get("tasks", 0)
    return {
        "command": command,
        "records_in": passages + read_rejects,
        "documents": counts.get("documents", 0),
        "passages": passages,
        "tasks": tasks,
        "rejects": counts.get("rejects", 0),
        "invariant": "records_in = passages + read-stage rejects = tasks + rejects",
        "splits": group("split/"),
        "masks_per_task": group("masks_per_task/"),
        "labels": group("labels/"),
        "rejects_by_reason": rejects,
        "span_drops": group("span_drops/"),
        "span_fixes": group("span_fixes/"),
        "mean_passage_words": round(counts.get("passage_words", 0) / passages, 2) if passages else 0,
        "strategy": cfg.masking.strategy,
        "seed": cfg.seed,
        "seconds": round(seconds, 2),
        "passages_per_second": round(passages / seconds, 2) if seconds else 0,
        "num_workers": cfg.num_workers,
    }


def finalize(cfg: DataConfig, staging: str, stats: dict[str, Any]) -> None:
    """Swap the staged results into place, concatenate the corpus, write stats and card."""
    out = cfg.output
    marker = FileSystems.join(out, INCOMPLETE)
    _write_text("a `ramp data` run stopped while replacing this directory; rerun it\n", marker)
    for name in OUTPUT_DIRS:
        target = FileSystems.join(out, name)
        _delete_tree(target)
        sources = _files(FileSystems.join(staging, name))
        FileSystems.mkdirs(target)
        FileSystems.rename(sources, [FileSystems.join(target, s.rsplit("/", 1)[-1]) for s in sources])
    corpus_tmp = FileSystems.join(staging, "corpus.jsonl")
    with FileSystems.create(corpus_tmp) as dst:
        for shard in _files(FileSystems.join(staging, "corpus")):
            with FileSystems.open(shard) as src:
                while chunk := src.read(1 << 20):
                    dst.write(chunk)
    corpus = FileSystems.join(out, "corpus.jsonl")
    _delete_tree(corpus)
    FileSystems.rename([corpus_tmp], [corpus])
    _write_text(json.dumps(stats, indent=2, sort_keys=True) + "\n", FileSystems.join(out, "stats.json"))
    _write_text(card.render(stats, cfg), FileSystems.join(out, "README.md"))
    _delete_tree(staging)
    FileSystems.delete([marker])


def run(cfg: DataConfig, command: str | None = None) -> dict[str, Any]:
    """Run the pipeline to completion and return ``stats.json``'s content."""
    if not cfg.input:
        raise ValueError("no input: pass --input PATH_OR_GLOB (or set input: in the config)")
    if not cfg.output:
        raise ValueError("no output directory: pass --output DIR")
    if cfg.shards < 1:
        raise ValueError("shards must be >= 1")
    if cfg.num_workers < 1:
        raise ValueError(f"num_workers must be >= 1, not {cfg.num_workers}")
    if cfg.passages.words < 1:
        raise ValueError(f"passages.words must be >= 1, not {cfg.passages.words}")
    if cfg.passages.mode not in MODES:
        raise ValueError(f"passages.mode: unknown {cfg.passages.mode!r}; choose from {', '.join(MODES)}")
    cfg.masking.check()
    if cfg.spans.extractor not in EXTRACTORS:
        raise ValueError(
            f"spans.extractor: unknown {cfg.spans.extractor!r}; choose from {', '.join(EXTRACTORS)}"
        )
    if cfg.spans.extractor == "llm" and not cfg.span_llm.model:
        raise ValueError("spans.extractor llm needs span_llm.model (and span_llm.base_url for a server)")
    if cfg.spans.extractor == "spacy" and cfg.masking.strategy != "random":
        nlp.check_model(cfg.spacy.model)
    paths = expand_inputs(cfg.input)
    command = command or " ".join(shlex.quote(a) for a in ["ramp", *sys.argv[1:]])
    staging = FileSystems.join(cfg.output, STAGING)
    _delete_tree(staging)  # leftovers of a killed run
    FileSystems.mkdirs(staging)
    started = time.perf_counter()
    with beam.Pipeline(options=pipeline_options(cfg)) as p:
        build(p, cfg, paths, staging)
    seconds = time.perf_counter() - started
    counts = json.loads(_read_text(FileSystems.join(staging, "counts.json")))
    stats = stats_from_counts(counts, cfg, seconds, command)
    finalize(cfg, staging, stats)
    return stats
