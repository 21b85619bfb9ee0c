"""``ramp report --run runs/demo``: the demo's final table and PNG plots.

Reads what the stages wrote (data stats, curriculum counts, traces stats, SFT and RL
metrics, eval metrics) and draws: masks per task and label mix, curriculum stage sizes,
the SFT loss curve and the RL reward curve.
"""

from __future__ import annotations

import json
import os
from typing import Any


def _json(path: str) -> Any:
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _jsonl(path: str) -> list[dict]:
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def collect(run: str) -> dict[str, Any]:
    j = os.path.join
    return {
        "data": _json(j(run, "data", "stats.json")),
        "curriculum": _json(j(run, "curriculum", "counts.json")),
        "traces": _json(j(run, "traces", "stats.json")),
        "traces_llm": _json(j(run, "traces-llm", "stats.json")),
        "sft": _jsonl(j(run, "sft", "metrics.jsonl")),
        "rl": _jsonl(j(run, "rl", "metrics.jsonl")),
        "rl_summary": _json(j(run, "rl", "summary.json")) or {},
        "eval_before": _json(j(run, "eval-before", "metrics.json")),
        "eval_after": _json(j(run, "eval", "metrics.json")),
    }


def table(r: dict[str, Any]) -> str:
    rows = []
    if r["data"]:
        d = r["data"]
        rows.append(
            ("tasks (passages -> tasks, rejects)", f"{d['passages']} -> {d['tasks']}, {d['rejects']}")
        )
    if r["traces"]:
        t = r["traces"]
        rows.append(
            (
                "accepted traces (rule teacher)",
                f"{t['accepted']}/{t['tasks']} ({100 * t['acceptance_rate']:.0f} %), "
                f"{t['searches_per_trace']} searches/trace",
            )
        )
    if r["traces_llm"]:
        t = r["traces_llm"]
        rows.append(("accepted traces (LLM roles, SmolLM2)", f"{t['accepted']}/{t['tasks']}"))
    if r["sft"]:
        rows.append(
            (
                "SFT loss (first -> last step)",
                f"{r['sft'][0]['loss']:.3f} -> {r['sft'][-1]['loss']:.3f} ({r['sft'][-1]['step']} steps)",
            )
        )
    if r["rl"]:
        rows.append(
            (
                "RL reward (first -> last step)",
                f"{r['rl'][0]['reward']:.3f} -> {r['rl'][-1]['reward']:.3f} "
                f"({r['rl'][-1]['step']} steps, KL {r['rl'][-1]['kl']:.4f})",
            )
        )
    for name, key in (("eval before (SmolLM2)", "eval_before"), ("eval after (SFT + RL)", "eval_after")):
        if r[key]:
            parts = [
                f"{ds}: F1 {m['f1']:.3f}, answered {100 * m['answered']:.0f} %, "
                f"{m['searches_per_question']:.2f} searches"
                for ds, m in r[key]["datasets"].items()
            ]
            rows.append((name, ", ".join(parts)))
    width = max(len(k) for k, _ in rows) if rows else 10
    return "\n".join(f"  {k:<{width}}  {v}" for k, v in rows)


def plots(r: dict[str, Any], out: str) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    os.makedirs(out, exist_ok=True)
    written = []
    if r["data"]:
        fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.5))
        masks = r["data"]["masks_per_task"]
        a.bar(list(masks), list(masks.values()), color="#4477aa")
        a.set(title="masks per task", xlabel="masks", ylabel="tasks")
        labels = dict(sorted(r["data"]["labels"].items(), key=lambda kv: -kv[1])[:10])
        b.barh(list(labels)[::-1], list(labels.values())[::-1], color="#66ccee")
        b.set(title="label mix of masked spans", xlabel="masks")
        fig.tight_layout()
        written.append(os.path.join(out, "masks.png"))
        fig.savefig(written[-1], dpi=110)
        plt.close(fig)
    if r["curriculum"]:
        stages = r["curriculum"]["stages"]
        fig, ax = plt.subplots(figsize=(5, 3.5))
        names = list(stages)
        ax.bar(names, [stages[s]["train"] for s in names], label="train", color="#228833")
        ax.bar(
            names,
            [stages[s]["validation"] for s in names],
            bottom=[stages[s]["train"] for s in names],
            label="validation",
            color="#ccbb44",
        )
        ax.set(title="curriculum stages (by number of masks)", ylabel="tasks")
        ax.legend()
        fig.tight_layout()
        written.append(os.path.join(out, "curriculum.png"))
        fig.savefig(written[-1], dpi=110)
        plt.close(fig)
    if r["sft"] or r["rl"]:
        fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.5))
        if r["sft"]:
            a.plot([x["step"] for x in r["sft"]], [x["loss"] for x in r["sft"]], marker="o")
            a.set(title="SFT loss (trainable tokens only)", xlabel="step", ylabel="loss")
        if r["rl"]:
            steps = [x["step"] for x in r["rl"]]
            b.plot(steps, [x["reward"] for x in r["rl"]], marker="o", label="hybrid reward")
            for key in [k for k in r["rl"][0] if k.startswith("reward/")]:
                b.plot(steps, [x[key] for x in r["rl"]], linestyle="--", label=key)
            algorithm = r.get("rl_summary", {}).get("algorithm", "grpo")
            b.set(
                title=f"RL reward ({algorithm.upper().replace('_PP', '++')})", xlabel="step", ylabel="reward"
            )
            b.legend(fontsize=8)
        fig.tight_layout()
        written.append(os.path.join(out, "training.png"))
        fig.savefig(written[-1], dpi=110)
        plt.close(fig)
    return written
