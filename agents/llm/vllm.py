"""Offline vLLM batch backend (``vllm.LLM``). Needs CUDA: it cannot run on a CPU-only
machine, so it is imported lazily and kept small; the tests only check that it imports
and is typed. On a GPU box: ``llm.backend: vllm`` in the config."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ramp.llm import Conversation, LLMError, Sampling


class VLLMBackend:
    def __init__(self, model: str, dtype: str = "bfloat16", **options: Any):
        from vllm import LLM  # noqa: PLC0415 - CUDA only

        from agents.models import resolve

        self.name = model
        self.engine = LLM(model=resolve(model), dtype=dtype, **options)

    def generate(self, conversations: Sequence[Conversation],
                 sampling: Sampling) -> list[str | LLMError]:
        from vllm import SamplingParams

        params = SamplingParams(temperature=sampling.temperature, top_p=sampling.top_p,
                                max_tokens=sampling.max_tokens, stop=sampling.stop or None,
                                seed=sampling.seed, include_stop_str_in_output=True)
        outputs = self.engine.chat(list(conversations), params, use_tqdm=False)
        return [o.outputs[0].text if o.outputs and o.outputs[0].text.strip()
                else LLMError("empty completion") for o in outputs]
