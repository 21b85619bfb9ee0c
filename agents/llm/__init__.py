"""LLM backends behind one protocol (:class:`ramp.llm.LLM`): hf, openai, vllm."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ramp.llm import LLM


@dataclass
class LLMConfig:
    backend: str = field(default="hf", metadata={"help": "hf | openai | vllm"})
    model: str = field(
        default="",
        metadata={
            "help": "HF dir, Hub name or gguf:<package>/<file> (hf, vllm); the served model name (openai)"
        },
    )
    base_url: str = field(
        default="",
        metadata={"help": "openai: e.g. http://127.0.0.1:8000/v1 (vllm serve, SGLang, llama.cpp)"},
    )
    api_key: str = field(default="EMPTY", metadata={"help": "openai: the server's API key"})
    dtype: str = field(default="bfloat16", metadata={"help": "hf, vllm: weights dtype"})
    batch_size: int = field(default=8, metadata={"help": "hf: prompts per generate call"})
    concurrency: int = field(default=16, metadata={"help": "openai: requests in flight"})
    timeout: float = field(default=60.0, metadata={"help": "openai: seconds per request"})
    retries: int = field(default=2, metadata={"help": "openai: retries of a failed request"})
    options: dict[str, Any] = field(
        default_factory=dict, metadata={"help": "vllm: more keyword arguments of vllm.LLM"}
    )


def make_llm(cfg: LLMConfig) -> LLM:
    if cfg.backend == "hf":
        from agents.llm.hf import HFBackend

        return HFBackend(cfg.model, dtype=cfg.dtype, batch_size=cfg.batch_size)
    if cfg.backend == "openai":
        from agents.llm.openai import OpenAIBackend

        return OpenAIBackend(
            cfg.base_url,
            cfg.model,
            api_key=cfg.api_key,
            concurrency=cfg.concurrency,
            timeout=cfg.timeout,
            retries=cfg.retries,
        )
    if cfg.backend == "vllm":
        from agents.llm.vllm import VLLMBackend

        return VLLMBackend(cfg.model, dtype=cfg.dtype, **cfg.options)
    raise ValueError(f"unknown LLM backend {cfg.backend!r}: hf | openai | vllm")
