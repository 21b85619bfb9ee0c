"""SFT and RL under 2 real processes (torchrun, gloo on CPU): identical weights on every
rank, files written once, a kill + rerun that resumes; for SFT also the same loss curve as
1 process at the same global batch. (RL rollouts are sampled, and each process draws from
its own seeded stream, so 1 and 2 processes sample different rollouts: their loss curves
are not compared.) Slow: each case starts real process groups."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import sft_cfg

ROOT = Path(__file__).resolve().parents[2]
WORKER = ROOT / "tests" / "training" / "dist_worker.py"
pytestmark = pytest.mark.slow


def launch(nproc: int, stage: str, out: Path, overrides: dict, timeout: int = 600):
    """Run the stage in ``nproc`` processes (torchrun; one process runs plainly)."""
    args = [f"{k}={v}" for k, v in overrides.items()]
    if nproc == 1:
        cmd = [sys.executable, str(WORKER), stage, str(out), *args]
    else:
        cmd = [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--nproc_per_node",
            str(nproc),
            "--master_port",
            str(_free_port()),
            str(WORKER),
            stage,
            str(out),
            *args,
        ]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr[-3000:]
    return [json.loads((out / f"rank-{r}.json").read_text()) for r in range(nproc)]


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def sft_overrides(tiny_model, traces, out, **kw):
    cfg = sft_cfg(tiny_model, traces, out, batch_size=4, max_steps=6, save_steps=3, **kw)
    keep = (
        "model",
        "traces",
        "output",
        "batch_size",
        "lr",
        "warmup_steps",
        "save_steps",
        "max_length",
        "bf16",
        "max_steps",
    )
    return {k: getattr(cfg, k) for k in keep}


def test_sft_two_processes_match_one(tiny_model, traces, tmp_path):
    """Same global batch (4 traces/step): 1 process accumulates 4 micro-batches, 2 processes
    2 each. Loss per step agrees within 1e-4 relative (fp32; only the order of the gradient
    sum differs); both ranks end with the same weights; rank 0 alone writes the files."""
    launch(1, "sft", tmp_path / "one", sft_overrides(tiny_model, traces, tmp_path / "one"))
    two = launch(2, "sft", tmp_path / "two", sft_overrides(tiny_model, traces, tmp_path / "two"))
    assert two[0]["processes"] == 2
    assert two[0]["weights_sha256"] == two[1]["weights_sha256"]
    a, b = rows(tmp_path / "one" / "metrics.jsonl"), rows(tmp_path / "two" / "metrics.jsonl")
    assert [r["step"] for r in a] == [r["step"] for r in b] == list(range(1, 7))  # written once
    for x, y in zip(a, b):
        assert x["loss"] == pytest.approx(y["loss"], rel=1e-4, abs=1e-4)
        assert x["tokens"] == y["tokens"]
    assert sorted(p.name for p in (tmp_path / "two").glob("checkpoint-*")) == ["checkpoint-3", "checkpoint-6"]
    assert (tmp_path / "two" / "final" / "model.safetensors").exists()
    assert not list((tmp_path / "two").glob("*.tmp"))


def test_sft_resumes_under_two_processes(tiny_model, traces, tmp_path):
    """A run killed after checkpoint-3 (later files removed, as a kill leaves them) resumes
    under 2 processes at step 3 and ends with the uninterrupted run's metrics and weights."""
    import shutil

    full = launch(2, "sft", tmp_path / "full", sft_overrides(tiny_model, traces, tmp_path / "full"))
    out = tmp_path / "killed"
    shutil.copytree(tmp_path / "full", out)
    shutil.rmtree(out / "checkpoint-6")
    shutil.rmtree(out / "final")
    (out / "summary.json").unlink()
    resumed = launch(2, "sft", out, sft_overrides(tiny_model, traces, out))
    assert resumed[0]["resumed_from"] == 3
    assert resumed[0]["weights_sha256"] == full[0]["weights_sha256"]
    assert [r["loss"] for r in rows(out / "metrics.jsonl")] == [
        r["loss"] for r in rows(tmp_path / "full" / "metrics.jsonl")
    ]


def rl_overrides(tiny_model, demo_data, out):
    return {
        "model": tiny_model,
        "tasks": demo_data / "data" / "tasks",
        "index": demo_data / "index",
        "output": out,
        "steps": 4,
        "prompts_per_step": 2,
        "group_size": 2,
        "lr": 0.0002,
        "save_steps": 2,
        "bf16": False,
        "rewards.length": 1.0,
        "loop.max_tokens": 8,
        "loop.max_turns": 2,
    }


def test_rl_two_processes_and_resume(tiny_model, demo_data, tmp_path):
    """GRPO on TRL under 2 processes, one task (group of 2) each: both ranks end with the
    same weights, rank 0 alone writes metrics, checkpoints and final/; a run killed after
    checkpoint-2 resumes under 2 processes and ends with the same metrics and weights."""
    import shutil

    full = launch(2, "rl", tmp_path / "full", rl_overrides(tiny_model, demo_data, tmp_path / "full"))
    assert full[0]["processes"] == 2
    assert full[0]["weights_sha256"] == full[1]["weights_sha256"]
    straight = rows(tmp_path / "full" / "metrics.jsonl")
    assert [r["step"] for r in straight] == [1, 2, 3, 4]
    assert all(r["groups"] == 2 for r in straight) and any(r["kl"] > 0 for r in straight)
    assert all(r["kl"] is not None and r["kl"] < 1 for r in straight)
    assert (tmp_path / "full" / "final" / "model.safetensors").exists()
    out = tmp_path / "killed"
    shutil.copytree(tmp_path / "full", out)
    for late in ("checkpoint-4", "checkpoint-3", "final", "summary.json"):
        path = out / late
        shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)
    resumed = launch(2, "rl", out, rl_overrides(tiny_model, demo_data, out))
    assert resumed[0]["resumed_from"] == 2
    assert resumed[0]["weights_sha256"] == full[0]["weights_sha256"]
    again = rows(out / "metrics.jsonl")
    drop = lambda rs: [{k: v for k, v in r.items() if "seconds" not in k} for r in rs]  # noqa: E731
    assert drop(again) == drop(straight)
