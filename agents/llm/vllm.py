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

    def generate(self, conversations: Sequence[Conversation], sampling: Sampling) -> list[str | LLMError]:
        from vllm import SamplingParams

        params = SamplingParams(
            temperature=sampling.temperature,
            top_p=sampling.top_p,
            max_tokens=sampling.max_tokens,
            stop=sampling.stop or None,
            seed=sampling.seed,
            include_stop_str_in_output=True,
        )
        outputs = self.engine.chat(list(conversations), params, use_tqdm=False)
        return [
            o.outputs[0].text if o.outputs and o.outputs[0].text.strip() else LLMError("empty completion")
            for o in outputs
        ]


class VLLMTokenBackend:
    """Token in, token out on vLLM, for RL rollouts inside TRL's GRPOTrainer
    (``use_vllm: true``): ``engine`` is the trainer's colocated ``vllm.LLM``
    (``vllm_mode: colocate``, weights synced by TRL every step) or a ``VLLMClient``
    (``vllm_mode: server``, a ``trl vllm-serve`` process). Needs CUDA; tested here only
    against stand-ins of those two objects (tests/agents/test_backends.py)."""

    def __init__(self, engine, tokenizer, server: bool, name: str = "vllm"):
        self.engine, self.tokenizer, self.server, self.name = engine, tokenizer, server, name

    def generate_tokens(self, prompts: Sequence[list[int]], sampling: Sampling) -> list:
        from ramp.llm import TokenOutput

        options = {"stop": list(sampling.stop) or None, "include_stop_str_in_output": True}
        if self.server:
            # one set of sampling parameters for the whole request, so no seed: a shared seed
            # would give every copy of a prompt (a GRPO group) the same completion
            got = self.engine.generate(
                prompts=[list(p) for p in prompts],
                n=1,
                temperature=sampling.temperature,
                top_p=sampling.top_p,
                max_tokens=sampling.max_tokens,
                logprobs=0,
                generation_kwargs=options,
            )
            rows = [
                (ids, [lp[0] if isinstance(lp, list) else lp for lp in lps])
                for ids, lps in zip(got["completion_ids"], got["logprobs"])
            ]
        else:
            from vllm import SamplingParams  # noqa: PLC0415 - CUDA only

            # a seed per request (vLLM seeds each request's own generator)
            params = [
                SamplingParams(
                    temperature=sampling.temperature,
                    top_p=sampling.top_p,
                    max_tokens=sampling.max_tokens,
                    seed=sampling.seed + i,
                    logprobs=0,
                    **options,
                )
                for i in range(len(prompts))
            ]
            outputs = self.engine.generate(
                [{"prompt_token_ids": list(p)} for p in prompts], params, use_tqdm=False
            )
            # logprobs=0: each position's dict holds the sampled token's Logprob
            rows = [
                (
                    list(o.outputs[0].token_ids),
                    [d[t].logprob for t, d in zip(o.outputs[0].token_ids, o.outputs[0].logprobs)],
                )
                for o in outputs
            ]
        return [
            TokenOutput(
                list(ids), [float(x) for x in lps], self.tokenizer.decode(ids, skip_special_tokens=True)
            )
            if ids
            else LLMError("empty completion")
            for ids, lps in rows
        ]
