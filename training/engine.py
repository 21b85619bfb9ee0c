"""What SFT and RL share about the engine (transformers Trainer on accelerate).

The device is never named here: accelerate places the model on CUDA, MPS, XPU or the CPU.
One thing must be said explicitly: on a machine with no accelerator, accelerate treats
several processes (torchrun, ``accelerate launch --multi_gpu``) as one CPU data-parallel
group (gloo) only when told ``cpu``; without it every process trains alone on all data.
"""

from __future__ import annotations

import functools
import os


def rank() -> int:
    """This process's rank under torchrun / accelerate launch (0 when run alone)."""
    return int(os.environ.get("RANK", "0"))


def world_size() -> int:
    """Processes of this run (torchrun / accelerate launch set ``WORLD_SIZE``)."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def trainer_kwargs() -> dict:
    """Keyword arguments every RAMP ``TrainingArguments`` gets: the CPU only when there is no
    accelerator, and the Trainer's progress bar only where RAMP draws bars
    (:func:`ramp.logs.progress_enabled`: a terminal, not CI, not ``--quiet``)."""
    import torch

    from ramp.logs import progress_enabled

    cpu = not torch.accelerator.is_available()
    if cpu:
        _restore_indexed_cpu_locations()
    return {"use_cpu": cpu, "disable_tqdm": not progress_enabled()}


def quiet_printer(trainer) -> None:
    """Without its bar the Trainer prints every log dict to stdout (``PrinterCallback``); RAMP
    logs its own step lines (``training`` logger) and writes ``metrics.jsonl`` instead."""
    from transformers.trainer_callback import PrinterCallback

    trainer.remove_callback(PrinterCallback)


@functools.cache
def _restore_indexed_cpu_locations() -> None:
    """transformers < 5.11 (verl's pin) resumes a multi-process run by loading the optimizer
    with ``map_location=args.device``, which is ``cpu:0`` on a CPU process group; torch only
    restores ``cpu`` and the resume fails ("don't know how to restore data location ...
    (tagged with cpu:0)"). A ``cpu:N`` location is the CPU: restore it as such."""
    import torch.serialization

    def restore(storage, location: str):
        return storage if location.startswith("cpu:") else None

    torch.serialization.register_package(11, lambda storage: None, restore)


def metrics_callback(path: str, row):
    """A Trainer callback that appends ``row(state, logs)`` (a dict, or None to skip) to the
    JSONL file ``path`` on rank 0 only: ``metrics.jsonl`` of SFT and RL."""
    import json

    from transformers import TrainerCallback

    class MetricsRows(TrainerCallback):
        def on_log(self, args, state, control, logs=None, **kwargs):
            if args.process_index != 0 or not logs or state.global_step == 0:
                return
            got = row(state, logs)
            if got is not None:
                with open(path, "a", encoding="utf-8") as f:
                    f.write(json.dumps(got) + "\n")

    return MetricsRows()


def write_summary(trainer, output_dir: str, summary: dict) -> dict:
    """``summary.json`` from rank 0; every rank gets the summary back."""
    import json

    if trainer.is_world_process_zero():
        with open(os.path.join(output_dir, "summary.json"), "w", encoding="utf-8") as f:
            json.dump(summary, f, indent=2)
    return summary
