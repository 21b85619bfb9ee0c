"""What SFT and RL share about the engine (transformers Trainer on accelerate).

The device is never named here: accelerate places the model on CUDA, MPS, XPU or the CPU.
One thing must be said explicitly: on a machine with no accelerator, accelerate treats
several processes (torchrun, ``accelerate launch --multi_gpu``) as one CPU data-parallel
group (gloo) only when told ``cpu``; without it every process trains alone on all data.
"""

from __future__ import annotations

import os


def world_size() -> int:
    """Processes of this run (torchrun / accelerate launch set ``WORLD_SIZE``)."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def trainer_kwargs() -> dict:
    """Keyword arguments every RAMP ``TrainingArguments`` gets."""
    import torch

    return {"use_cpu": not torch.accelerator.is_available()}
