"""RL on TRL's GRPOTrainer: the loss mask on a real rollout batch, dynamic sampling,
short real runs (bm25, simulated, judge, QA), and resume."""

import json

import pytest

from tests.conftest import SHARED, requires_shared
from training.rl import RLConfig, informative_groups


def test_informative_groups_drop_equal_reward_groups():
    assert informative_groups([0, 0, 0, 0, 1, 0, 0, 0, 0.5, 0.5, 0.5, 0.5], 4) == [1]
    assert informative_groups([0.2, 0.2], 2) == [] and informative_groups([], 4) == []


def test_collect_groups_dynamic_sampling_order_and_fallback():
    """Selection logic with a scripted rollout (rewards per task name, no model): groups
    with equal rewards are replaced by newly drawn tasks; short of signal, the trainer gets
    the kept groups topped up with the latest others (TRL needs every slot filled)."""
    from training.rl import Rollouts, collect_groups

    script = {"a": [0, 0], "b": [1, 0], "c": [0, 0], "d": [0, 1], "e": [1, 1]}
    tasks = list(script)
    cursor = [0]

    def draw(n, r):
        cursor[0] += n
        return tasks[cursor[0] - n : cursor[0]]

    def rollout(picked, r):
        return Rollouts(
            picked, [f"{t}{i}" for t in picked for i in range(2)], [x for t in picked for x in script[t]]
        )

    got = collect_groups(rollout, draw, 2, 2, rounds=3)
    assert got.tasks == ["a", "b", "c", "d"]  # round 1: a b (b kept), round 2: c, round 3: d
    assert got.kept == [1, 3] and got.train_groups == [1, 3]
    cursor[0] = 4  # "e" then "a": equal rewards both, nothing kept; the latest is trained
    tasks.append("a")
    got = collect_groups(rollout, draw, 1, 2, rounds=2)
    assert got.tasks == ["e", "a"] and got.kept == [] and got.train_groups == [1]
    cursor[0] = 0
    plain = collect_groups(rollout, draw, 2, 2, rounds=0)  # no dynamic sampling
    assert plain.tasks == ["a", "b"] and plain.train_groups == [0, 1] and plain.kept == [1]


def test_dynamic_sampling_run_logs_groups(demo_data, tiny_model, tmp_path):
    """DAPO options on a random tiny model over the real index: its rollouts earn no reward,
    so each step samples max_sampling_rounds groups and keeps none."""
    from training.rl import train

    cfg = RLConfig(
        model=str(tiny_model),
        tasks=str(demo_data / "data" / "tasks"),
        index=str(demo_data / "index"),
        output=str(tmp_path / "rl"),
        steps=2,
        prompts_per_step=1,
        group_size=2,
        bf16=False,
        dynamic_sampling=True,
        max_sampling_rounds=3,
        clip_eps_high=0.28,
    )
    cfg.loop.max_tokens, cfg.loop.max_turns = 8, 1
    train(cfg)
    rows = [json.loads(x) for x in (tmp_path / "rl" / "metrics.jsonl").read_text().splitlines()]
    assert [(r["step"], r["reward"], r["groups"], r["groups_signal"], r["groups_trained"]) for r in rows] == [
        (1, 0.0, 3, 0, 1),
        (2, 0.0, 3, 0, 1),
    ]


@pytest.mark.parametrize("index", ["bm25", "simulated", "simulator"])
def test_short_rl_run_logs_every_component(demo_data, tiny_model, tmp_path, index):
    """``simulator``: the simulated engine on its own model (``simulated.model``, a trained
    simulator in real runs), not on the frozen reference."""
    from training.rl import train

    cfg = RLConfig(
        model=str(tiny_model),
        tasks=str(demo_data / "data" / "tasks"),
        index=str(demo_data / "index") if index == "bm25" else "simulated",
        output=str(tmp_path / "rl"),
        steps=2,
        prompts_per_step=1,
        group_size=2,
        bf16=False,
    )
    cfg.loop.max_tokens, cfg.loop.max_turns = 8, 2
    cfg.simulated.total_steps, cfg.simulated.max_tokens = 2, 16
    if index == "simulator":
        cfg.simulated.model = str(tiny_model)
    summary = train(cfg)
    rows = [json.loads(x) for x in (tmp_path / "rl" / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2]
    for r in rows:
        for key in (
            "reward",
            "reward/format",
            "reward/answer_recall",
            "kl",
            "searches",
            "noise_p",
            "stage",
            "loss",
        ):
            assert key in r
        assert r["kl"] >= 0.0 and 0.0 <= r["reward"] <= 1.0
        assert 0.0 <= r["seconds"] <= summary["seconds"]  # time since the start of training
    if index != "bm25":
        from ramp.search import noise_probability

        assert rows[0]["noise_p"] == 0.0  # the ZeroSearch curve, advanced by the RL step
        assert rows[1]["noise_p"] == pytest.approx(noise_probability(1, 2, 0.0, 0.5, 4.0))
    else:
        assert rows[0]["noise_p"] is None
    assert (tmp_path / "rl" / "final" / "model.safetensors").exists() and summary["steps"] == 2
    # step 1 scores with policy == reference in the same precision: the KL is exactly 0
    assert rows[0]["kl"] == 0.0


def test_rl_with_the_judge_reward_and_config_errors(demo_data, tiny_model, tmp_path):
    """``rewards: {judge: w}`` judges with the frozen reference model (hf, model "");
    its component is logged; in bf16 autocast the KL of step 1 is exactly 0 too. Bad
    reward names and option combinations are errors before any model loads."""
    import dataclasses

    from training.rl import train

    cfg = RLConfig(
        model=str(tiny_model),
        tasks=str(demo_data / "data" / "tasks"),
        index=str(demo_data / "index"),
        output=str(tmp_path / "rl"),
        steps=1,
        prompts_per_step=1,
        group_size=2,
        bf16=True,
        rewards={"format": 0.5, "judge": 0.5},
    )
    cfg.loop.max_tokens, cfg.loop.max_turns = 8, 1
    train(cfg)
    row = json.loads((tmp_path / "rl" / "metrics.jsonl").read_text())
    assert row["reward/judge"] == 0.0 and "reward/format" in row  # garbage rollouts: no answer
    assert row["kl"] == 0.0
    for bad, match in (
        ({"rewards": {"format": 1.0, "vibes": 1.0}}, "unknown rewards"),
        ({"dynamic_sampling": True, "algorithm": "reinforce_pp"}, "only under grpo"),
        ({"dynamic_sampling": True, "max_sampling_rounds": 11}, "1..10"),
    ):
        with pytest.raises(ValueError, match=match):
            train(dataclasses.replace(cfg, model="not-loaded", **bad))


@requires_shared
def test_stage_two_rl_on_downstream_qa(demo_data, tiny_model, tmp_path):
    """MaskSearch's stage II: the same RL on a QA file (real HotpotQA questions), scored
    against the answer, stage logged as 0."""
    from training.rl import train

    questions = SHARED / "qa" / "hotpotqa_train100" / "questions.json.gz"
    cfg = RLConfig(
        model=str(tiny_model),
        tasks=str(questions),
        index=str(demo_data / "index"),
        output=str(tmp_path / "rl"),
        steps=2,
        prompts_per_step=1,
        group_size=2,
        bf16=False,
        limit=5,
        rewards={"format": 0.5, "answer_f1": 0.5},
    )
    cfg.loop.max_tokens, cfg.loop.max_turns = 8, 1
    train(cfg)
    rows = [json.loads(x) for x in (tmp_path / "rl" / "metrics.jsonl").read_text().splitlines()]
    assert [(r["step"], r["stage"]) for r in rows] == [(1, 0), (2, 0)]
    assert all("reward/answer_f1" in r for r in rows)


def test_rl_resumes_from_a_checkpoint_with_the_same_result(demo_data, tiny_model, tmp_path, monkeypatch):
    """A run killed after checkpoint-2 (later checkpoints and final/ gone) and rerun
    continues at step 3 and ends with the same metrics and weights as an uninterrupted run.
    A reward registered the documented way (added to REWARDS) varies with the output length,
    so the policy really moves."""
    from safetensors.torch import load_file

    from ramp.rewards import REWARDS, completion_text
    from training.rl import train

    def length(prompts, completions, **columns):
        return [len(completion_text(c)) % 7 / 7 for c in completions]

    monkeypatch.setitem(REWARDS, "length", length)

    def run(out, steps):
        cfg = RLConfig(
            model=str(tiny_model),
            tasks=str(demo_data / "data" / "tasks"),
            index=str(demo_data / "index"),
            output=str(out),
            steps=steps,
            prompts_per_step=1,
            group_size=2,
            bf16=False,
            lr=1e-3,
            save_steps=2,
            rewards={"length": 1.0},
        )
        cfg.loop.max_tokens, cfg.loop.max_turns = 8, 1
        summary = train(cfg)
        rows = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
        for r in rows:  # wall-clock times differ between runs
            r.pop("seconds"), r.pop("rollout_seconds")
        return summary, rows, load_file(str(out / "final" / "model.safetensors"))

    import shutil

    _, straight, weights = run(tmp_path / "a", 4)
    assert any(r["kl"] > 0 for r in straight)  # the policy moved
    shutil.copytree(tmp_path / "a", tmp_path / "b")  # "killed" after step 3: only checkpoint-2
    for late in ("checkpoint-4", "checkpoint-3", "final"):
        shutil.rmtree(tmp_path / "b" / late, ignore_errors=True)
    summary, resumed, again = run(tmp_path / "b", 4)
    assert summary["resumed_from"] == 2
    assert [r["step"] for r in resumed] == [1, 2, 3, 4] and resumed == straight
    assert all(weights[k].equal(again[k]) for k in weights)


def test_sharded_runs_that_would_hang_are_refused_up_front():
    """FSDP / ZeRO-3 cannot run here (CUDA): stand-in accelerator objects carry only the two
    fields the check reads."""
    import dataclasses
    from types import SimpleNamespace

    from training.rl import check_sharding

    def acc(kind, stage=None):
        plugin = SimpleNamespace(zero_stage=stage) if stage else None
        return SimpleNamespace(
            distributed_type=f"DistributedType.{kind}", state=SimpleNamespace(deepspeed_plugin=plugin)
        )

    cfg = RLConfig(index="idx")
    check_sharding(acc("MULTI_GPU"), cfg)
    check_sharding(acc("DEEPSPEED", 3), cfg)  # policy weights are gathered for generation
    check_sharding(acc("FSDP"), dataclasses.replace(cfg, use_vllm=True))
    with pytest.raises(ValueError, match="use_vllm"):
        check_sharding(acc("FSDP"), cfg)
    with pytest.raises(ValueError, match="frozen reference is sharded"):
        check_sharding(acc("DEEPSPEED", 3), dataclasses.replace(cfg, index="simulated"))
