"""The agent loop in token mode (RL rollouts): ids in, ids out, environment tokens masked."""

import pytest

from agents.chat import environment_ids, prompt_ids
from agents.loop import AgentEpisode, AgentLoop, LoopConfig, TokenTrace
from ramp.llm import Sampling, TokenOutput
from ramp.rewards import REWARDS
from ramp.search import Hit


class Retriever:
    """Stand-in retriever: one fixed passage per query (the test is about the token stream,
    not retrieval; real indexes are tested in test_search.py)."""

    def search(self, queries, k, exclude_ids=None):
        return [[Hit("d1", "Lisbon", "Lisbon is the capital of Portugal.", 1.0)] for _ in queries]


class ScriptedTokens:
    """Stand-in for the policy in token mode: the tiny random model never writes <search>,
    so this one "samples" scripted turns, as ids made once by the real SmolLM2 tokenizer,
    including a token that runs past the stop string. It records the ids it was given."""

    name = "scripted-tokens"

    def __init__(self, tokenizer, turns):
        self.tokenizer, self.turns, self.seen = tokenizer, list(turns), []

    def generate_tokens(self, prompts, sampling):
        out = []
        for p in prompts:
            self.seen.append(list(p))
            ids = self.tokenizer(self.turns.pop(0), add_special_tokens=False)["input_ids"]
            out.append(TokenOutput(ids, [-0.5] * len(ids), self.tokenizer.decode(ids)))
        return out


def test_token_mode_keeps_sampled_ids_and_masks_exactly_the_environment(tokenizer_smollm2):
    tok = tokenizer_smollm2
    turns = [
        "<think>find it</think>\n<search>capital of Portugal</search>",
        "<think>found</think>\n<answer>Lisbon</answer>",
    ]
    llm = ScriptedTokens(tok, turns)
    first = [{"role": "user", "content": "Fill the [mask]: [mask] is the capital of Portugal."}]
    e = AgentEpisode(id="a", messages=list(first), tokens=TokenTrace(prompt_ids(tok, first)))
    AgentLoop(llm, Retriever(), LoopConfig(max_turns=3, topk=1, retries=0)).run([e])
    assert e.state == "done" and e.answer == "Lisbon" and e.searches == 1
    t = e.tokens
    turn_ids = [tok(x, add_special_tokens=False)["input_ids"] for x in turns]
    env = environment_ids(tok, e.messages[:2], e.messages[2]["content"])
    # sampled ids kept as sampled; the environment in between, all mask 0
    assert t.completion_ids == turn_ids[0] + env + turn_ids[1]
    assert t.env_mask == [1] * len(turn_ids[0]) + [0] * len(env) + [1] * len(turn_ids[1])
    assert t.logprobs == [-0.5] * len(turn_ids[0]) + [0.0] * len(env) + [-0.5] * len(turn_ids[1])
    # the second turn continued the exact ids, not a re-rendered text
    assert llm.seen[1] == t.prompt_ids + turn_ids[0] + env
    # the environment ids are the template's: end of turn, the <information> user turn, header
    text = tok.decode(t.prompt_ids + t.completion_ids)
    assert (
        text == tok.apply_chat_template(e.messages[:3], tokenize=False, add_generation_prompt=True) + turns[1]
    )
    assert "<information>" in tok.decode(env) and "<information>" not in tok.decode(
        [i for i, m in zip(t.completion_ids, t.env_mask) if m]
    )
    # rewards on the completion as TRL decodes it equal rewards on the messages
    decoded = [{"role": "assistant", "content": tok.decode(t.completion_ids, skip_special_tokens=True)}]
    for name, fn in REWARDS.items():
        cols = {"answers": [["Lisbon"]], "num_masks": [1]}
        assert fn([first], [decoded], **cols) == fn([first], [e.messages[1:]], **cols), name


def test_hf_generate_tokens_returns_sampled_ids_and_their_logprobs(tiny_model):
    """Real generate on a tiny random model: the ids are those generate produced, the
    log-probs equal a teacher-forced forward pass at temperature 1, and rows finished early
    carry no padding."""
    import torch

    from agents.llm.hf import HFBackend

    llm = HFBackend(str(tiny_model), dtype="float32")
    prompts = [[1, 2, 3, 4], [5, 6]]
    out = llm.generate_tokens(prompts, Sampling(temperature=1.0, max_tokens=6, seed=3))
    for p, o in zip(prompts, out):
        assert isinstance(o, TokenOutput) and 1 <= len(o.ids) <= 6
        with torch.no_grad():
            logits = llm.model(torch.tensor([p + o.ids])).logits[0, len(p) - 1 : -1].float()
        ref = torch.log_softmax(logits, -1).gather(-1, torch.tensor(o.ids)[:, None]).squeeze(-1)
        assert o.logprobs == pytest.approx(ref.tolist(), abs=1e-4)
    again = llm.generate_tokens(prompts, Sampling(temperature=1.0, max_tokens=6, seed=3))
    assert [o.ids for o in again] == [o.ids for o in out]  # seeded
