"""``ramp sft``: curriculum SFT on verified traces, loss only on the model's own tokens.

A plain PyTorch loop (``bench/bench_sft.py`` compares it with TRL's SFTTrainer on the
same model and data): each trace is rendered once by :func:`training.render.render_conversation`
to ``(input_ids, mask)``; micro-batches are length-grouped (``micro_batch_size: 1`` is
padding-free); the loss is the mean over trainable tokens of an optimizer step.
Curriculum: stage-1 ... stage-4 in order (``epochs_per_stage`` each), or ``mixed``.
Checkpoints hold the model and the optimizer/scheduler/step, and a rerun resumes from the
latest one, continuing the step count.
"""

from __future__ import annotations

import json
import math
import os
import random
import time
from dataclasses import dataclass, field
from typing import Any

from training import checkpoints
from training.render import render_conversation


@dataclass
class LoraConfig:
    enabled: bool = False
    r: int = 16
    alpha: int = 32
    dropout: float = 0.05
    target_modules: list[str] = field(default_factory=lambda: ["q_proj", "v_proj"])


@dataclass
class SFTConfig:
    model: str = ""
    traces: str = ""  # a traces directory (traces-*.parquet), or several comma-separated
    output_dir: str = ""
    accepted_only: bool = True
    curriculum: str = "stages"  # stages | mixed
    epochs_per_stage: int = 1
    max_length: int = 1024
    batch_size: int = 4  # examples per optimizer step
    micro_batch_size: int = 1  # examples per forward pass (1 = padding-free)
    lr: float = 5e-5
    warmup_steps: int = 2
    weight_decay: float = 0.0
    max_grad_norm: float = 1.0
    max_steps: int | None = None
    limit: int | None = None
    logging_steps: int = 1
    save_steps: int = 10
    keep_checkpoints: int = 2
    seed: int = 0
    dtype: str = "float32"  # weights; bf16 autocast is used for the forward pass on CPU
    autocast_bf16: bool = True
    gradient_checkpointing: bool = False
    lora: LoraConfig = field(default_factory=LoraConfig)
    tensorboard: bool = False


@dataclass
class Example:
    trace_id: str
    stage: int
    ids: list[int]
    mask: list[int]


def load_examples(cfg: SFTConfig, tokenizer) -> list[Example]:
    from agents.traces import read_traces

    rows = [r for directory in cfg.traces.split(",") for r in read_traces(directory.strip())]
    if not rows:
        raise FileNotFoundError(f"no traces-*.parquet under {cfg.traces}")
    rows = sorted((r for r in rows if r["accepted"] or not cfg.accepted_only),
                  key=lambda r: r["id"])[: cfg.limit]
    examples = []
    for r in rows:
        ids, mask = render_conversation(tokenizer, r["messages"], cfg.max_length)
        if sum(mask):
            examples.append(Example(r["id"], int(r["stage"]), ids, mask))
    return examples


def plan_steps(examples: list[Example], cfg: SFTConfig) -> list[tuple[int, list[Example]]]:
    """The whole run as a deterministic list of (stage, examples of one optimizer step)."""
    rng = random.Random(cfg.seed)
    if cfg.curriculum == "stages":
        phases = [(s, [e for e in examples if e.stage == s]) for s in sorted({e.stage for e in examples})]
    elif cfg.curriculum == "mixed":
        phases = [(0, list(examples))]
    else:
        raise ValueError("curriculum must be stages or mixed")
    steps = []
    for stage, items in phases:
        for _ in range(cfg.epochs_per_stage):
            order = items[:]
            rng.shuffle(order)
            for i in range(0, len(order), cfg.batch_size):
                steps.append((stage, order[i : i + cfg.batch_size]))
    return steps[: cfg.max_steps] if cfg.max_steps else steps


def micro_batches(batch: list[Example], size: int) -> list[list[Example]]:
    ordered = sorted(batch, key=lambda e: len(e.ids))  # similar lengths pad least
    return [ordered[i : i + size] for i in range(0, len(ordered), size)]


def train(cfg: SFTConfig, log=print) -> dict[str, Any]:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from agents.models import resolve

    if not (cfg.model and cfg.traces and cfg.output_dir):
        raise ValueError("sft needs model=, traces= and output_dir=")
    if cfg.tensorboard:
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            raise ValueError("tensorboard: true needs the tensorboard package "
                             "(pip install -e '.[tb]')") from None
    torch.manual_seed(cfg.seed)
    os.makedirs(cfg.output_dir, exist_ok=True)
    resume = checkpoints.latest(cfg.output_dir)
    base = resolve(cfg.model)
    tokenizer = AutoTokenizer.from_pretrained(base)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    weights = base if cfg.lora.enabled else (resume or base)  # LoRA checkpoints hold adapters
    model = AutoModelForCausalLM.from_pretrained(weights, dtype=getattr(torch, cfg.dtype))
    if cfg.gradient_checkpointing:
        model.gradient_checkpointing_enable()
    if cfg.lora.enabled:
        from peft import LoraConfig as PeftLora
        from peft import PeftModel, get_peft_model

        if resume:
            model = PeftModel.from_pretrained(model, resume, is_trainable=True)
        else:
            model = get_peft_model(model, PeftLora(r=cfg.lora.r, lora_alpha=cfg.lora.alpha,
                                                   lora_dropout=cfg.lora.dropout,
                                                   target_modules=cfg.lora.target_modules,
                                                   task_type="CAUSAL_LM"))
    model.train()
    examples = load_examples(cfg, tokenizer)
    steps = plan_steps(examples, cfg)
    if not steps:
        raise ValueError("no trainable traces (accepted traces with assistant tokens)")
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)

    def lr_at(step: int) -> float:  # linear warm-up, cosine decay to 10 %
        if step < cfg.warmup_steps:
            return (step + 1) / cfg.warmup_steps
        progress = (step - cfg.warmup_steps) / max(1, len(steps) - cfg.warmup_steps)
        return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_at)
    start_step = 0
    metrics_path = os.path.join(cfg.output_dir, "metrics.jsonl")
    if resume:
        state = checkpoints.load_state(resume, torch)
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        start_step = state["step"]
        log(f"resuming from {resume} at step {start_step}")
    checkpoints.keep_metrics_until(metrics_path, start_step)
    writer = None
    if cfg.tensorboard:
        writer = SummaryWriter(os.path.join(cfg.output_dir, "tensorboard"))
    pad = tokenizer.pad_token_id
    stats = {"tokens": 0, "trainable_tokens": 0, "padding_tokens": 0}
    t0 = time.perf_counter()
    last_loss = float("nan")
    for step in range(start_step, len(steps)):
        stage, batch = steps[step]
        n_train = sum(sum(e.mask) for e in batch)
        total = 0.0
        for micro in micro_batches(batch, cfg.micro_batch_size):
            width = max(len(e.ids) for e in micro)
            ids = torch.full((len(micro), width), pad, dtype=torch.long)
            labels = torch.full((len(micro), width), -100, dtype=torch.long)
            attn = torch.zeros((len(micro), width), dtype=torch.long)
            for row, e in enumerate(micro):
                n = len(e.ids)
                ids[row, :n] = torch.tensor(e.ids)
                attn[row, :n] = 1
                labels[row, :n] = torch.tensor([t if m else -100 for t, m in zip(e.ids, e.mask)])
                stats["tokens"] += n
                stats["padding_tokens"] += width - n
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=cfg.autocast_bf16):
                logits = model(input_ids=ids, attention_mask=attn).logits
            shift_logits = logits[:, :-1].float().reshape(-1, logits.shape[-1])
            shift_labels = labels[:, 1:].reshape(-1)
            loss = torch.nn.functional.cross_entropy(shift_logits, shift_labels,
                                                     ignore_index=-100, reduction="sum")
            (loss / n_train).backward()
            total += loss.item()
        stats["trainable_tokens"] += n_train
        torch.nn.utils.clip_grad_norm_(params, cfg.max_grad_norm)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        last_loss = total / n_train
        done = step + 1
        if done % cfg.logging_steps == 0 or done == len(steps):
            row = {"step": done, "stage": stage, "loss": round(last_loss, 5),
                   "lr": scheduler.get_last_lr()[0], "tokens": stats["tokens"],
                   "trainable_tokens": stats["trainable_tokens"]}
            with open(metrics_path, "a", encoding="utf-8") as f:
                f.write(json.dumps(row) + "\n")
            if writer is not None:
                writer.add_scalar("loss", last_loss, done)
            log(f"step {done}/{len(steps)} stage {stage} loss {last_loss:.4f}")
        if done % cfg.save_steps == 0 and done < len(steps):
            checkpoints.save(cfg.output_dir, model, {"optimizer": optimizer.state_dict(),
                                                     "scheduler": scheduler.state_dict()},
                             done, cfg.keep_checkpoints, torch)
    seconds = time.perf_counter() - t0
    final = checkpoints.save_final(model.merge_and_unload() if cfg.lora.enabled else model, tokenizer,
                       os.path.join(cfg.output_dir, "final"))
    summary = {"steps": len(steps), "resumed_from": start_step, "examples": len(examples),
               "final_loss": last_loss, "seconds": round(seconds, 1),
               "tokens_per_second": round(stats["tokens"] / seconds, 1) if seconds else 0,
               "padding_share": round(stats["padding_tokens"] /
                                      max(1, stats["tokens"] + stats["padding_tokens"]), 4),
               "final": final}
    with open(os.path.join(cfg.output_dir, "summary.json"), "w", encoding="utf-8") as f:
        json.dump(summary, f, indent=2)
    return summary
