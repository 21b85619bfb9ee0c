"""Run one stage in every process of a torchrun / accelerate launch and leave each rank's
summary, with a digest of that rank's weights, in ``OUT/rank-N.json``: the distributed tests
compare them. For RL it registers a ``length`` reward the documented way (added to
``REWARDS``): a stand-in reward that varies with the output, so a tiny random policy moves.

    torchrun --nproc_per_node 2 tests/training/dist_worker.py sft OUT key=value ...
"""

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def weights_digest(model) -> str:
    """SHA-256 of this rank's parameters (under DDP every rank must give the same; the
    distributed tests compare them)."""
    import hashlib

    digest = hashlib.sha256()
    for name, param in sorted(model.named_parameters()):
        digest.update(name.encode())
        digest.update(param.detach().float().cpu().numpy().tobytes())
    return digest.hexdigest()


def digest_callback(box: dict):
    from transformers import TrainerCallback

    class Digest(TrainerCallback):
        def on_train_end(self, args, state, control, model=None, **kwargs):
            box["weights_sha256"] = weights_digest(model)

    return Digest()


def main() -> None:
    from ramp.config import load_config

    stage, out, overrides = sys.argv[1], Path(sys.argv[2]), sys.argv[3:]
    if stage == "sft":
        from training.sft import SFTConfig as Config
        from training.sft import train
    else:
        from ramp.rewards import REWARDS, completion_text
        from training.rl import RLConfig as Config
        from training.rl import train

        REWARDS["length"] = lambda prompts, completions, **_: [
            len(completion_text(c)) % 7 / 7 for c in completions
        ]
    box: dict = {}
    summary = train(load_config(Config, None, overrides), callbacks=[digest_callback(box)])
    out.mkdir(parents=True, exist_ok=True)
    (out / f"rank-{os.environ.get('RANK', '0')}.json").write_text(json.dumps({**summary, **box}))


if __name__ == "__main__":
    main()
