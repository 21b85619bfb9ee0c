"""LLM backends behind one protocol (:class:`ramp.llm.LLM`): hf, openai, vllm."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ramp.llm import LLM


@dataclass
class LLMConfig:
    backend: str = "hf"  # hf | openai | vllm
    model: str = ""  # HF dir / hub name / gguf:pkg/file (hf, vllm); served model name (openai)
    base_url: str = ""  # openai: e.g. http://127.0.0.1:8000/v1
    api_key: str = "EMPTY"
    dtype: str = "bfloat16"
    batch_size: int = 8
    concurrency: int = 16
    timeout: float = 60.0
    retries: int = 2
    options: dict[str, Any] = field(default_factory=dict)


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
