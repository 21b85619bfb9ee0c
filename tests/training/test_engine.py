"""The engine contract: shipped accelerate configs pass accelerate's own launch checks, and
no training-path code names a device (the device comes from accelerate)."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TRAINING_PATH = [
    *sorted((ROOT / "training").glob("*.py")),
    ROOT / "agents" / "loop.py",
    ROOT / "agents" / "llm" / "hf.py",
]
DEVICES = {"cpu", "cuda", "mps", "xpu"}


@pytest.mark.parametrize("name", ["ddp", "fsdp", "zero3"])
def test_accelerate_configs_pass_accelerates_launch_validation(name):
    from accelerate.commands.launch import _validate_launch_command, launch_command_parser

    path = ROOT / "configs" / "accelerate" / f"{name}.yaml"
    assert path.read_text().startswith("# accelerate launch --config_file")
    args = launch_command_parser().parse_args(["--config_file", str(path), "-m", "ramp.cli", "sft"])
    args, _, _ = _validate_launch_command(args)
    assert args.num_processes == 8 and args.mixed_precision == "bf16"
    assert {"ddp": args.multi_gpu, "fsdp": args.use_fsdp, "zero3": args.use_deepspeed}[name]


def _device_literals(path: Path) -> list[str]:
    """String literals naming a device where a tensor or model is placed: ``device=``,
    ``device_type=``, ``.to("...")``, ``torch.device("...")``, ``torch.autocast("...")``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.Call):
            continue
        args = [kw.value for kw in node.keywords if kw.arg in ("device", "device_type")]
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        if name in ("to", "device", "autocast", "set_device") and node.args:
            args.append(node.args[0])
        found += [
            f"{path.name}:{node.lineno} {a.value!r}"
            for a in args
            if isinstance(a, ast.Constant) and str(a.value).split(":")[0] in DEVICES
        ]
    return found


def test_no_tensor_or_model_is_placed_on_a_hard_coded_device():
    assert [hit for p in TRAINING_PATH for hit in _device_literals(p)] == []


def test_the_device_check_catches_a_literal(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text(
        'import torch\nx = torch.zeros(2, device="cpu")\nwith torch.autocast("cuda"):\n'
        '    pass\ny = x.to("cuda:0")\n'
    )
    assert len(_device_literals(bad)) == 3


def test_several_cpu_processes_form_one_group():
    """Without an accelerator the Trainer must be told ``use_cpu``, or torchrun's processes
    each train alone on all the data (tested for real in test_distributed)."""
    import torch

    from training.engine import trainer_kwargs

    assert trainer_kwargs()["use_cpu"] == (not torch.accelerator.is_available())
