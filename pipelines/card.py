"""The Hub dataset card (``README.md``) written next to the Parquet files."""

from __future__ import annotations

from typing import Any

import yaml

from pipelines.config import DataConfig

MASKSEARCH_CITATION = """@article{wu2025masksearch,
  title={MaskSearch: A Universal Pre-Training Framework to Enhance Agentic Search Capability},
  author={Weiqi Wu and Xin Guan and Shen Huang and Yong Jiang and Pengjun Xie and Fei Huang and
          Jiuxin Cao and Hai Zhao and Jingren Zhou},
  year={2025},
  eprint={2505.20285},
  archivePrefix={arXiv},
  primaryClass={cs.CL},
  url={https://arxiv.org/abs/2505.20285}
}"""
# the Hub's size_categories buckets, by task count
_SIZES = (
    (1_000, "n<1K"),
    (10_000, "1K<n<10K"),
    (100_000, "10K<n<100K"),
    (1_000_000, "100K<n<1M"),
    (10_000_000, "1M<n<10M"),
    (100_000_000, "10M<n<100M"),
    (1_000_000_000, "100M<n<1B"),
)


def size_category(n: int) -> str:
    return next((name for limit, name in _SIZES if n < limit), "n>1T")


_HEADER = {
    "pretty_name": "RAMP masked passages",
    "task_categories": ["question-answering", "fill-mask"],
    "tags": ["retrieval-augmented-mask-prediction", "masksearch", "search-agent"],
    "configs": [
        {
            "config_name": "tasks",
            "default": True,
            "data_files": [
                {"split": "train", "path": "tasks/train-*.parquet"},
                {"split": "validation", "path": "tasks/validation-*.parquet"},
            ],
        },
        {"config_name": "passages", "data_files": [{"split": "train", "path": "passages/*.parquet"}]},
        {"config_name": "rejects", "data_files": [{"split": "train", "path": "rejects/*.parquet"}]},
    ],
}


def _table(rows: dict[str, int], head: tuple[str, str]) -> str:
    lines = [f"| {head[0]} | {head[1]} |", "|---|---:|"]
    lines += [f"| {k} | {v:,} |" for k, v in sorted(rows.items(), key=lambda kv: (-kv[1], kv[0]))]
    return "\n".join(lines)


def header(stats: dict[str, Any], cfg: DataConfig) -> dict[str, Any]:
    """The card's YAML front matter: provenance from ``cfg.source``, size from the counts."""
    src = cfg.source
    return {
        "license": src.license,
        "language": list(src.language),
        "size_categories": [size_category(stats["tasks"])],
        "source_datasets": list(src.source_datasets),
        **_HEADER,
    }


def render(stats: dict[str, Any], cfg: DataConfig) -> str:
    src = cfg.source
    citation = MASKSEARCH_CITATION + (f"\n\n{src.citation.strip()}" if src.citation.strip() else "")
    return f"""---
{yaml.safe_dump(header(stats, cfg), sort_keys=False)}---

# RAMP masked passages from {src.name}

Retrieval-Augmented Mask Prediction (RAMP) tasks in the style of MaskSearch: {src.name}
passages ({cfg.passages.mode}, up to {cfg.passages.words} words) in which
1-{cfg.masking.max_masks} salient spans
(named entities, dates, numbers{", terms" if cfg.spans.terms else ""}) are replaced by
`{cfg.masking.mask_token}`. A search agent must find the missing spans with a retriever.

Built with RAMP (`ramp data`) by:

```
{stats["command"]}
```

Masking strategy `{stats["strategy"]}`, seed {stats["seed"]}. Same input and seed give
byte-identical Parquet.

## Counts

| | |
|---|---:|
| passages | {stats["passages"]:,} |
| tasks | {stats["tasks"]:,} |
| rejects | {stats["rejects"]:,} |

{_table(stats["splits"], ("split", "tasks"))}

{_table(stats["masks_per_task"], ("masks per task", "tasks"))}

{_table(stats["labels"], ("span label", "masks"))}

Rejected records (dead letters in `rejects/`, each with its reason):

{_table(stats["rejects_by_reason"], ("stage/reason", "records"))}

## Span candidates dropped, by rule

A candidate span is dropped when it is a fragment, gives itself away or is not a fact worth
a search (`spans.*` in the config): a DATE with no digit, a small number word, a span glued
to a word, the title or a word of it, its acronym beside it, a country/demonym pair.

{_table(stats.get("span_drops", {}), ("rule", "candidates"))}

## Columns (`tasks`)

| column | meaning |
|---|---|
| `id` | content-derived task id |
| `source_id`, `passage_id`, `title` | the source document and passage |
| `text` | the passage |
| `masked_text` | the passage with each answer replaced by the mask token |
| `answers` | the masked spans, in order of appearance |
| `spans` | `start`, `end` (character offsets in `text`), `label`, `text` per answer |
| `num_masks`, `num_candidates` | masks in this task, salient spans it was drawn from |
| `strategy`, `split` | masking strategy; split by a stable hash of the source article |
| `mask_token` | what stands for each answer in `masked_text` |

## Provenance and license

Text from {src.name} ({src.url}), license `{src.license}` (see the source for its authors);
this derived dataset is shared under the same license. Splits are assigned per source
document, so no document appears in both splits.

## Citation

```bibtex
{citation}
```
"""
