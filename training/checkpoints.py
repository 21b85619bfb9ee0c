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
    done = [d for d in glob.glob(os.path.join(output_dir, "checkpoint-*"))
            if step_of(d) > 0 and os.path.exists(os.path.join(d, STATE))]
    return max(done, key=step_of) if done else None


def keep_metrics_until(metrics_path: str, step: int) -> None:
    """Drop metric rows past ``step`` (a killed run may have logged further)."""
    kept = []
    if os.path.exists(metrics_path):
        with open(metrics_path, encoding="utf-8") as f:
            kept = [line for line in f if line.strip() and json.loads(line)["step"] <= step]
    with open(metrics_path, "w", encoding="utf-8") as f:
        f.writelines(kept)


def save_final(model, tokenizer, final: str) -> str:
    """A loadable HF checkpoint (safetensors + tokenizer), swapped into place atomically."""
    tmp = final + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp, safe_serialization=True)
    tokenizer.save_pretrained(tmp)
    shutil.rmtree(final, ignore_errors=True)
    os.replace(tmp, final)
    return final


def save_trainer_final(trainer, tokenizer, final: str, merge_lora: bool = False) -> str:
    """``final/`` from a trained Trainer: every rank takes part (FSDP / ZeRO-3 gather the
    full state dict), rank 0 writes; LoRA adapters are merged into the base weights."""
    tmp = final + ".tmp"
    if merge_lora:
        merged = trainer.accelerator.unwrap_model(trainer.model).merge_and_unload()
        if trainer.is_world_process_zero():
            save_final(merged, tokenizer, final)
        trainer.accelerator.wait_for_everyone()
        return final
    if trainer.is_world_process_zero():
        shutil.rmtree(tmp, ignore_errors=True)
    trainer.accelerator.wait_for_everyone()
    trainer.save_model(tmp)  # collective under FSDP / DeepSpeed; writes on rank 0
    if trainer.is_world_process_zero():
        tokenizer.save_pretrained(tmp)
        shutil.rmtree(final, ignore_errors=True)
        os.replace(tmp, final)
    trainer.accelerator.wait_for_everyone()
    return final


def weights_digest(model) -> str:
    """SHA-256 of this rank's parameters (under DDP every rank must give the same)."""
    import hashlib

    digest = hashlib.sha256()
    for name, param in sorted(model.named_parameters()):
        digest.update(name.encode())
        digest.update(param.detach().float().cpu().numpy().tobytes())
    return digest.hexdigest()
