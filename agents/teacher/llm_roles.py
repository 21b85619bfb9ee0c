"""LLM implementations of the roles: versioned prompts, defensive parsing, bounded retries.

Every output is parsed; a malformed one is asked again (up to ``retries`` times, with
sampling on), then becomes a :class:`RoleError` that the state machine turns into a
reject row. Production: a 7B+ instruct model on vLLM or any OpenAI-compatible server.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from agents.prompts import load
from agents.teacher.roles import Observation, Plan, RoleError, mask_sentence
from ramp.llm import LLM, LLMError, Sampling
from ramp.search import format_information


def tags(text: str, name: str) -> list[str]:
    return [m.strip() for m in re.findall(rf"<{name}>(.*?)</{name}>", text, re.DOTALL)]


def ask(
    llm: LLM, prompts: Sequence[str], parse: Callable[[str], Any], retries: int, sampling: Sampling
) -> list[Any]:
    """One batched call, then batched re-asks of the malformed ones only."""
    results: list[Any] = [None] * len(prompts)
    todo = list(range(len(prompts)))
    for attempt in range(retries + 1):
        if not todo:
            break
        s = (
            sampling
            if attempt == 0
            else Sampling(
                temperature=max(sampling.temperature, 0.7),
                top_p=sampling.top_p,
                max_tokens=sampling.max_tokens,
                stop=sampling.stop,
                seed=sampling.seed + attempt,
            )
        )
        outs = llm.generate([[{"role": "user", "content": prompts[i]}] for i in todo], s)
        again = []
        for i, out in zip(todo, outs):
            if isinstance(out, LLMError):
                results[i] = RoleError("llm_error", str(out))
                continue
            parsed = parse(out)
            if parsed is None:
                results[i] = RoleError("malformed_output", out[:300])
                again.append(i)
            else:
                results[i] = parsed
        todo = again
    return results


class LLMRoles:
    """The four roles on one LLM. ``version`` picks the prompt files (``planner.v1.txt``...)."""

    def __init__(self, llm: LLM, version: str = "v1", retries: int = 2, max_tokens: int = 256):
        self.llm, self.version, self.retries = llm, version, retries
        self.sampling = Sampling(temperature=0.0, max_tokens=max_tokens)

    def _prompt(self, name: str, **fields: Any) -> str:
        return load(name, self.version).format(**fields)

    def plan(self, tasks):
        prompts = [
            self._prompt(
                "planner", title=t.title, num_masks=t.num_masks, masked_text=t.masked_text, mask=t.mask_token
            )
            for t in tasks
        ]

        def parse_for(n: int):
            def parse(text: str) -> Plan | None:
                plan, intents = tags(text, "plan"), [i for i in tags(text, "intent") if i]
                if not plan or len(intents) != n:
                    return None
                return Plan(plan[0], intents)

            return parse

        # The number of intents to expect differs by task: one batched call per mask count.
        out: list[Any] = [None] * len(tasks)
        by_n: dict[int, list[int]] = {}
        for i, t in enumerate(tasks):
            by_n.setdefault(t.num_masks, []).append(i)
        for n, idx in by_n.items():
            for i, r in zip(
                idx, ask(self.llm, [prompts[i] for i in idx], parse_for(n), self.retries, self.sampling)
            ):
                out[i] = r
        return out

    def rewrite(self, items):
        prompts = [self._prompt("rewriter", title=t.title, intent=intent) for t, _, intent, _ in items]

        def parse(text: str) -> list[str] | None:
            seen, queries = set(), []
            for q in tags(text, "query"):
                q = " ".join(q.split())
                if q and q.lower() not in seen:
                    seen.add(q.lower())
                    queries.append(q)
            return queries or None

        results = ask(self.llm, prompts, parse, self.retries, self.sampling)
        return [
            r[attempt % len(r) :] + r[: attempt % len(r)] if isinstance(r, list) else r
            for r, (_, _, _, attempt) in zip(results, items)
        ]

    def observe(self, items):
        prompts = [
            self._prompt(
                "observer",
                title=t.title,
                context=mask_sentence(t.masked_text, i, t.mask_token),
                mask=t.mask_token,
                documents=format_information(hits) or "(no results)",
            )
            for t, i, hits in items
        ]

        def parse(text: str) -> Observation | None:
            note = (tags(text, "note") or [""])[0]
            fill, again = tags(text, "fill"), tags(text, "search_again")
            if fill and fill[0]:
                return Observation(fill[0], note or f'The documents give "{fill[0]}".')
            if again and again[0]:
                return Observation(None, note or "The documents do not say.", again[0])
            return None

        return ask(self.llm, prompts, parse, self.retries, self.sampling)

    def judge(self, items):
        """``items``: (predicted fills, gold per mask); a gold may be a list of acceptable
        answers (QA), shown as ``correct "a" or "b"``."""

        def gold_text(g) -> str:
            return " or ".join(f'"{x}"' for x in ([g] if isinstance(g, str) else g))

        prompts = [
            self._prompt(
                "judge",
                pairs="\n".join(
                    f'Mask {i + 1}: predicted "{p}", correct {gold_text(g)}'
                    for i, (p, g) in enumerate(zip(list(pred) + [""] * len(gold), gold))
                ),
            )
            for pred, gold in items
        ]

        def parse(text: str) -> str | None:
            verdict = [v.lower() for v in tags(text, "verdict")]
            return verdict[0] if verdict and verdict[0] in ("correct", "incorrect") else None

        return ask(self.llm, prompts, parse, self.retries, self.sampling)
