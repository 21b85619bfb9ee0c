"""Any OpenAI-compatible chat server (``vllm serve``, SGLang, llama.cpp's server, ...).

Async with a concurrency limit, a timeout per request and bounded retries with
exponential backoff for timeouts, connection errors, 429/5xx and unparseable bodies.
A 4xx is not retried. Every conversation ends as a text or an :class:`LLMError`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence

from ramp.llm import Conversation, LLMError, Sampling, cut_at_stop

RETRY_STATUS = {408, 409, 429, 500, 502, 503, 504}


class OpenAIBackend:
    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str = "EMPTY",
        concurrency: int = 16,
        timeout: float = 60.0,
        retries: int = 2,
        backoff: float = 0.5,
    ):
        if not base_url:
            raise ValueError("openai backend needs base_url, e.g. http://127.0.0.1:8000/v1")
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.name = model
        self.api_key, self.concurrency = api_key, concurrency
        self.timeout, self.retries, self.backoff = timeout, retries, backoff

    def _payload(self, conversation: Conversation, sampling: Sampling) -> dict:
        payload = {
            "model": self.name,
            "messages": conversation,
            "temperature": sampling.temperature,
            "top_p": sampling.top_p,
            "max_tokens": sampling.max_tokens,
            "seed": sampling.seed,
        }
        if sampling.stop:
            payload["stop"] = list(sampling.stop)
        return payload

    async def _one(
        self, client, sem: asyncio.Semaphore, conversation: Conversation, sampling: Sampling
    ) -> str | LLMError:
        import httpx

        last = "no attempt"
        for attempt in range(self.retries + 1):
            if attempt:
                await asyncio.sleep(self.backoff * 2 ** (attempt - 1))
            async with sem:
                try:  # ``timeout`` bounds the whole request: a server dripping bytes
                    # kept one request 95 s with httpx's per-read timeout of 5 s
                    resp = await asyncio.wait_for(
                        client.post(self.url, json=self._payload(conversation, sampling)), self.timeout
                    )
                except (httpx.TimeoutException, httpx.TransportError, TimeoutError) as exc:
                    last = f"{type(exc).__name__}: {exc}"
                    continue
            if resp.status_code in RETRY_STATUS:
                last = f"HTTP {resp.status_code}"
                continue
            if resp.status_code >= 400:
                return LLMError(f"HTTP {resp.status_code}: {resp.text[:200]}")
            try:
                text = resp.json()["choices"][0]["message"]["content"]
            except (json.JSONDecodeError, UnicodeDecodeError, KeyError, IndexError, TypeError) as exc:
                last = f"malformed response: {exc!r}"
                continue
            if not isinstance(text, str) or not text.strip():
                return LLMError("empty completion")
            # OpenAI servers drop the matched stop string; parse_turn and the rewards'
            # extract_answer accept an unclosed last tag (transcripts keep what was sampled).
            return cut_at_stop(text, sampling.stop)
        return LLMError(f"failed after {self.retries + 1} tries: {last}")

    async def _all(self, conversations: Sequence[Conversation], sampling: Sampling) -> list[str | LLMError]:
        import httpx

        sem = asyncio.Semaphore(self.concurrency)
        headers = {"Authorization": f"Bearer {self.api_key}"}
        limits = httpx.Limits(max_connections=self.concurrency)
        # the deadline is asyncio's (a total per request, in _one); httpx's is only a backstop
        async with httpx.AsyncClient(timeout=self.timeout + 1.0, headers=headers, limits=limits) as client:
            return await asyncio.gather(*(self._one(client, sem, c, sampling) for c in conversations))

    def generate(self, conversations: Sequence[Conversation], sampling: Sampling) -> list[str | LLMError]:
        return asyncio.run(self._all(conversations, sampling))
