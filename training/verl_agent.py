"""RAMP's search agent inside verl: ``agent_name: ramp_agent`` (rows of ``ramp export-verl``).

verl (0.9.1) runs one agent loop per trajectory, async, against its rollout servers (vLLM /
SGLang replicas behind ``server_manager.generate``: token ids in, token ids + log-probs out).
This loop is RAMP's own state machine (:class:`agents.loop.AgentLoop`, the one the teacher,
``ramp eval`` and ``ramp rl`` run) in token mode, so a model SFT-ed by ``ramp sft`` searches
under verl exactly as it learned to:

- generate until ``</search>`` or ``</answer>`` (stop strings sent to the server, kept in
  the output);
- send the query to a retrieval server (``ramp serve-retriever``; the row's
  ``extra_info.exclude_ids`` forwarded, so ``export-verl --exclude-source`` hides the
  task's own passage);
- append ``<information>`` as the same user turn the SFT traces have, rendered by the chat
  template, with ``response_mask`` 0 on every one of its tokens;
- stop at ``max_turns``. The response ids are the ones the server sampled, never
  re-tokenised text.

The policy's own turns go to the reward in ``extra_fields`` (``ramp_messages``), which verl
hands to ``compute_score`` in ``extra_info`` (:mod:`training.verl_reward`).

Registered two ways: ``@register`` when this module is imported, and by verl's
``actor_rollout_ref.rollout.agent.agent_loop_config_path`` (``configs/verl/agent_loops.yaml``,
which also sets the retriever URL and the turn budget).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from uuid import uuid4

from verl.experimental.agent_loop.agent_loop import AgentLoopBase, AgentLoopOutput, register

from agents.chat import prompt_ids
from agents.loop import STOP, AgentEpisode, AgentLoop, LoopConfig, TokenTrace
from agents.search.http import HttpRetriever
from ramp.llm import LLMError, Sampling, TokenOutput

logger = logging.getLogger(__name__)


@functools.cache
def _executor(workers: int) -> ThreadPoolExecutor:
    """The shared loop is synchronous; each trajectory runs it on a thread that waits on verl's
    event loop for tokens and on the retrieval server for documents (I/O, not CPU)."""
    return ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ramp-agent")


class ServerLLM:
    """:class:`ramp.llm.TokenLLM` over verl's server manager: one ``generate`` per sequence,
    awaited on verl's event loop. verl's sampling parameters (temperature, top-p, log-probs)
    are kept; the turn's token budget and RAMP's stop strings are added."""

    def __init__(
        self,
        server,
        tokenizer,
        sampling_params: dict[str, Any],
        loop: asyncio.AbstractEventLoop,
        request_id: str,
        timeout: float,
    ):
        self.server, self.tokenizer, self.loop = server, tokenizer, loop
        self.sampling_params, self.request_id, self.timeout = dict(sampling_params), request_id, timeout

    def generate_tokens(self, sequences: list[list[int]], sampling: Sampling) -> list:
        return [self._one(ids, sampling) for ids in sequences]

    def _one(self, ids: list[int], sampling: Sampling):
        params = {
            **self.sampling_params,
            "max_tokens": sampling.max_tokens,
            "stop": list(sampling.stop or STOP),
            "include_stop_str_in_output": True,
        }
        call = self.server.generate(request_id=self.request_id, prompt_ids=list(ids), sampling_params=params)
        try:
            out = asyncio.run_coroutine_threadsafe(call, self.loop).result(self.timeout)
        except Exception as exc:  # one trajectory fails (reward 0), not the step
            return LLMError(f"rollout server: {type(exc).__name__}: {exc}")
        token_ids = list(out.token_ids)
        logprobs = list(out.log_probs) if out.log_probs else [0.0] * len(token_ids)
        return TokenOutput(
            ids=token_ids, logprobs=logprobs, text=self.tokenizer.decode(token_ids, skip_special_tokens=True)
        )


@register("ramp_agent")
class RampAgentLoop(AgentLoopBase):
    """One RAMP search episode per verl trajectory (see the module docstring)."""

    def __init__(
        self,
        *args,
        retriever_url: str = "http://127.0.0.1:8000",
        topk: int = 3,
        max_turns: int = 5,
        max_tokens: int = 512,
        retriever_timeout: float = 30.0,
        generate_timeout: float = 600.0,
        max_concurrency: int = 256,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        if max_turns < 1 or topk < 1 or max_tokens < 1:
            raise ValueError("ramp_agent: max_turns, topk and max_tokens must be >= 1")
        # retries 0: a malformed turn is kept and trained with reward 0, not re-sampled
        self.loop_cfg = LoopConfig(max_turns=max_turns, topk=topk, retries=0, max_tokens=max_tokens)
        self.retriever = HttpRetriever(retriever_url, timeout=retriever_timeout)
        self.generate_timeout, self.max_concurrency = generate_timeout, max_concurrency

    async def run(self, sampling_params: dict[str, Any], **kwargs) -> AgentLoopOutput:
        messages = [{"role": m["role"], "content": m["content"]} for m in kwargs["raw_prompt"]]
        extra = kwargs.get("extra_info") or {}
        exclude = extra.get("exclude_ids")  # a numpy array when read from Parquet
        episode = AgentEpisode(
            id=str(extra.get("task_id", kwargs.get("index", ""))),
            messages=messages,
            exclude_ids=[str(i) for i in (exclude if exclude is not None else [])],
            tokens=TokenTrace(self._cap_text_prompt_length(prompt_ids(self.tokenizer, messages))),
        )
        loop = asyncio.get_running_loop()
        llm = ServerLLM(
            self.server_manager, self.tokenizer, sampling_params, loop, uuid4().hex, self.generate_timeout
        )
        started = time.perf_counter()
        await loop.run_in_executor(
            _executor(self.max_concurrency), AgentLoop(llm, self.retriever, self.loop_cfg).run, [episode]
        )
        return self.output(episode, time.perf_counter() - started)

    def output(self, episode: AgentEpisode, seconds: float) -> AgentLoopOutput:
        t, n = episode.tokens, self.rollout_config.response_length
        ids, mask, logprobs = t.completion_ids[:n], t.env_mask[:n], t.logprobs[:n]
        if not ids:  # the first generation failed: one untrained token keeps shapes valid
            ids, mask, logprobs = [self.tokenizer.eos_token_id], [0], [0.0]
        error = episode.error[0] if episode.error else ""
        if error:
            logger.debug("episode %s: %s", episode.id, episode.error)
        return AgentLoopOutput(
            prompt_ids=t.prompt_ids,
            response_ids=ids,
            response_mask=mask,
            response_logprobs=logprobs,
            num_turns=len(episode.messages),
            metrics={"generate_sequences": seconds},
            extra_fields={
                "ramp_messages": [m["content"] for m in episode.messages[1:] if m["role"] == "assistant"],
                "searches": episode.searches,
                "status": episode.state,
                "error": error,
            },
        )
