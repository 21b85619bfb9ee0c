"""Checkpoints shared by SFT and RL. Both run on a transformers ``Trainer`` (TRL), which
writes ``output_dir/checkpoint-N`` (model, optimizer, scheduler, RNG of every rank,
``trainer_state.json``) from rank 0 and keeps ``save_total_limit`` of them. Here: which one
a rerun resumes from (the newest complete one: a kill mid-save leaves one without
``trainer_state.json``, written last), metric rows past it dropped, and the final model
swapped into ``final/`` atomically."""

from __future__ import annotations

import glob
import json
import os
import shutil

STATE = "trainer_state.json"


def step_of(path: str | None) -> int:
    if not path:
        return 0
    tail = path.rstrip("/").rsplit("-", 1)[-1]
    return int(tail) if tail.isdigit() else -1


def latest(output_dir: str) -> str | None:
    """The newest ``checkpoint-N`` whose ``trainer_state.json`` was written (complete)."""
    done = [
        d
        for d in glob.glob(os.path.join(output_dir, "checkpoint-*"))
        if step_of(d) > 0 and os.path.exists(os.path.join(d, STATE))
    ]
    return max(done, key=step_of) if done else None


def keep_metrics_until(metrics_path: str, step: int) -> None:
    """Drop metric rows past ``step`` (a killed run may have logged further)."""
    kept = []
    if os.path.exists(metrics_path):
        with open(metrics_path, encoding="utf-8") as f:
            kept = [line for line in f if line.strip() and json.loads(line)["step"] <= step]
    with open(metrics_path, "w", encoding="utf-8") as f:
        f.writelines(kept)


def save_trainer_final(trainer, tokenizer, final: str, lora_base: str | None = None) -> str:
    """``final/`` from a trained Trainer: every rank takes part in ``save_model`` (FSDP and
    ZeRO-3 gather the full state dict), rank 0 writes. With ``lora_base`` the saved adapters
    are merged into those base weights on rank 0 (a merge on sharded parameters would not
    see whole tensors)."""
    tmp = final + ".tmp"
    if trainer.is_world_process_zero():
        shutil.rmtree(tmp, ignore_errors=True)
    trainer.accelerator.wait_for_everyone()
    trainer.save_model(tmp)
    if trainer.is_world_process_zero():
        if lora_base:
            import torch
            from peft import PeftModel
            from transformers import AutoModelForCausalLM

            base = AutoModelForCausalLM.from_pretrained(lora_base, dtype=torch.float32)
            merged = PeftModel.from_pretrained(base, tmp).merge_and_unload()
            shutil.rmtree(tmp)
            merged.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
        shutil.rmtree(final, ignore_errors=True)
        os.replace(tmp, final)
    trainer.accelerator.wait_for_everyone()
    return final
