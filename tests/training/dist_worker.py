"""Run one stage in every process of a torchrun / accelerate launch and leave each rank's
summary (with its weights digest) in ``OUT/rank-N.json``: the distributed tests compare them.

    torchrun --nproc_per_node 2 tests/training/dist_worker.py sft OUT key=value ...
"""

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


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

        # registered the documented way: a reward that varies, so a tiny random policy moves
        REWARDS["length"] = lambda prompts, completions, **_: [
            len(completion_text(c)) % 7 / 7 for c in completions]
    summary = train(load_config(Config, None, overrides))
    out.mkdir(parents=True, exist_ok=True)
    (out / f"rank-{os.environ.get('RANK', '0')}.json").write_text(json.dumps(summary))


if __name__ == "__main__":
    main()
