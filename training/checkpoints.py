"""Training checkpoints shared by SFT and RL: ``output_dir/checkpoint-N`` holds the model
(safetensors) and ``trainer_state.pt`` (optimizer, step, RNG, loop state), written to a
temporary sibling and renamed, so a kill never leaves a half checkpoint; the newest
``keep`` are kept. A rerun resumes from the newest and drops metric rows past it."""

from __future__ import annotations

import glob
import json
import os
import shutil
from typing import Any

STATE = "trainer_state.pt"


def _number(path: str) -> int:
    tail = path.rsplit("-", 1)[1]
    return int(tail) if tail.isdigit() else -1


def latest(output_dir: str) -> str | None:
    done = [d for d in glob.glob(os.path.join(output_dir, "checkpoint-*"))
            if _number(d) >= 0 and os.path.exists(os.path.join(d, STATE))]
    return max(done, key=_number) if done else None


def save(output_dir: str, model, state: dict[str, Any], step: int, keep: int, torch) -> str:
    path = os.path.join(output_dir, f"checkpoint-{step}")
    tmp = path + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp, safe_serialization=True)
    torch.save({**state, "step": step, "torch_rng": torch.get_rng_state()},
               os.path.join(tmp, STATE))
    shutil.rmtree(path, ignore_errors=True)
    os.replace(tmp, path)
    for d in sorted(glob.glob(os.path.join(output_dir, "checkpoint-*")), key=_number)[:-keep]:
        shutil.rmtree(d, ignore_errors=True)
    return path


def load_state(path: str, torch) -> dict[str, Any]:
    state = torch.load(os.path.join(path, STATE), weights_only=False)
    torch.set_rng_state(state["torch_rng"])
    return state


def keep_metrics_until(metrics_path: str, step: int) -> None:
    """Drop metric rows past ``step`` (a killed run may have logged further)."""
    kept = []
    if os.path.exists(metrics_path):
        with open(metrics_path, encoding="utf-8") as f:
            kept = [line for line in f if json.loads(line)["step"] <= step]
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
