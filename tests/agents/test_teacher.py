"""The teacher state machine (golden, with scripted roles) and the agent loop."""

from dataclasses import replace

from agents.loop import AgentEpisode, AgentLoop, LoopConfig
from agents.teacher.machine import TeacherConfig, TeacherMachine
from agents.teacher.roles import (
    Observation,
    RoleError,
    RuleJudge,
    RuleObserver,
    RulePlanner,
    RuleRewriter,
    align_fill,
    context_words,
    mask_sentence,
)
from ramp.records import Task
from ramp.search import Hit
from ramp.trace import parse_turn
from tests.helpers import ScriptedLLM, StaticRetriever

TEXT = (
    "Portugal is a country in Southwestern Europe. Mainland Portugal is on the Iberian "
    "Peninsula, bordered by Spain. Its capital is Lisbon, the largest city."
)
MASKED = (
    "Portugal is a country in Southwestern Europe. Mainland Portugal is on the [mask], "
    "bordered by Spain. Its capital is [mask], the largest city."
)
TASK = Task(
    id="t1",
    source_id="pt",
    passage_id="pt_0",
    title="Portugal",
    text=TEXT,
    masked_text=MASKED,
    answers=("Iberian Peninsula", "Lisbon"),
    spans=(),
    num_masks=2,
    num_candidates=3,
    strategy="salient",
    split="train",
)
SOURCE = Hit("pt_0", "Portugal", f'"Portugal"\n{TEXT}', 3.0)
OTHER = Hit("x_0", "Spain", '"Spain"\nSpain is a country.', 1.0)


class NeverFinds:
    def observe(self, items):
        return [Observation(None, "Nothing here.") for _ in items]


class BrokenPlanner:
    def plan(self, tasks):
        return [RoleError("malformed_output", "no <plan>") for _ in tasks]


def machine(retriever, observer=None, planner=None, **cfg):
    return TeacherMachine(
        planner or RulePlanner(),
        RuleRewriter(),
        observer or RuleObserver(),
        RuleJudge(0.8),
        retriever,
        TeacherConfig(**cfg),
    )


def test_context_helpers():
    assert mask_sentence(MASKED, 1) == "Its capital is [mask], the largest city."
    assert context_words(MASKED, 0, 3) == (["is", "on", "the"], ["bordered", "by", "Spain"])
    assert align_fill([OTHER, SOURCE], *context_words(MASKED, 1, 4)) == ("Lisbon", 7, 2)
    assert align_fill([OTHER], *context_words(MASKED, 1, 4)) is None


def test_rule_teacher_fills_every_mask_from_the_source_passage():
    retriever = StaticRetriever([SOURCE, OTHER])
    (e,) = machine(retriever).run([TASK])
    assert e.state == "done" and e.verdict == "correct"
    assert e.fills == ["Iberian Peninsula", "Lisbon"]
    roles = [m["role"] for m in e.messages]
    assert roles == ["user", "assistant", "user", "assistant", "user", "assistant"]
    turns = [parse_turn(m["content"]) for m in e.messages if m["role"] == "assistant"]
    assert [t.action for t in turns] == ["search", "search", "answer"]
    assert turns[-1].content == "Iberian Peninsula | Lisbon"
    assert all(t.think for t in turns)  # every turn explains itself
    assert e.messages[2]["content"].startswith("<information>Doc 1(Title: Portugal)")


def test_the_mask_token_comes_from_the_task():
    """``masking.mask_token`` was configurable, but the teacher and the prompts hard-coded
    ``[mask]``: a task written with another token was never solved. Now the task carries its
    token and everything reads it from there."""
    from agents.teacher.llm_roles import LLMRoles
    from agents.teacher.machine import ramp_prompt

    other = replace(TASK, masked_text=MASKED.replace("[mask]", "<M>"), mask_token="<M>")
    retriever = StaticRetriever([SOURCE, OTHER])
    (want,) = machine(retriever).run([TASK])
    (got,) = machine(retriever).run([other])
    assert got.fills == want.fills == ["Iberian Peninsula", "Lisbon"]
    prompt = ramp_prompt(other)
    assert "Fill in every <M> in the passage" in prompt and "[mask]" not in prompt
    assert ramp_prompt(TASK) == prompt.replace("<M>", "[mask]")
    roles = LLMRoles(ScriptedLLM({}))
    assert "[mask]" not in roles._prompt("planner", title="P", num_masks=2, masked_text="x", mask="<M>")


def test_search_budget_and_turn_limit():
    retriever = StaticRetriever([OTHER])
    (e,) = machine(retriever, NeverFinds(), max_turns=4, max_attempts=2).run([TASK])
    assert e.state == "done" and e.searches == 3 and e.num_turns == 4
    assert parse_turn(e.messages[-1]["content"]).action == "answer"
    assert e.verdict == "incorrect"
    # two tries on mask 1, then one on mask 2 before the budget ran out
    assert len({q[0] for q in retriever.calls}) == 3


def test_exclude_source_hides_the_passage():
    retriever = StaticRetriever([SOURCE, OTHER])
    (e,) = machine(retriever, exclude_source=True, max_attempts=1).run([TASK])
    assert e.verdict == "incorrect" and e.fills == ["", ""]
    assert "Doc 1(Title: Portugal)" not in "".join(m["content"] for m in e.messages)


def test_role_errors_fail_the_episode_with_a_reason():
    (e,) = machine(StaticRetriever([SOURCE]), planner=BrokenPlanner()).run([TASK])
    assert e.state == "failed" and e.error == ("planner", "malformed_output", "no <plan>")


def test_batch_is_stepped_in_lockstep():
    retriever = StaticRetriever([SOURCE, OTHER])
    tasks = [replace(TASK, id=f"t{i}") for i in range(5)]
    episodes = machine(retriever).run(tasks)
    assert all(e.verdict == "correct" for e in episodes)
    assert len(retriever.calls) == 2 and all(len(c) == 5 for c in retriever.calls)


def test_agent_loop_stops_on_answer_limits_turns_and_retries_invalid_output():
    llm = ScriptedLLM(
        {
            "a": ["<think>x</think><search>q1</search>", "<answer>Lisbon</answer>"],
            "b": ["no tags", "<search>q</search>", "<search>q</search>", "<search>q</search>"],
            "c": ["junk", "still junk"],
        }
    )
    retriever = StaticRetriever([SOURCE])
    eps = [AgentEpisode(id=k, messages=[{"role": "user", "content": k}]) for k in "abc"]
    AgentLoop(llm, retriever, LoopConfig(max_turns=3, retries=1)).run(eps)
    a, b, c = eps
    assert a.state == "done" and a.answer == "Lisbon" and a.searches == 1 and a.num_turns == 2
    assert b.state == "failed" and b.error[0] == "turn_limit" and b.num_turns == 3
    assert c.state == "failed" and c.error[0] == "malformed_output"
    assert all(
        m["content"].startswith("<information>")
        for m in a.messages
        if m["role"] == "user" and m is not a.messages[0]
    )
