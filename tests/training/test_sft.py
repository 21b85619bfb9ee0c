"""SFT: a tiny random model built from a config (fast), plus SmolLM2 on real traces (slow)."""

import json

import pytest

from tests.helpers import sft_cfg
from training.sft import SFTConfig, plan_steps, train


def test_curriculum_plan_orders_stages(tiny_model, traces):
    from transformers import AutoTokenizer

    from training.sft import load_examples

    cfg = sft_cfg(tiny_model, traces, "unused")
    examples = load_examples(cfg, AutoTokenizer.from_pretrained(tiny_model))
    stages = [s for s, _ in plan_steps(examples, cfg)]
    assert stages == sorted(stages) and len(set(stages)) > 1
    mixed = plan_steps(examples, sft_cfg(tiny_model, traces, "u", curriculum="mixed"))
    assert sum(len(b) for _, b in mixed) == len(examples)


def test_the_trainer_reads_traces_in_curriculum_order(tiny_model, traces, tmp_path):
    """TRL's dataloader yields the plan's examples in order (transformers' default sampler
    would shuffle them and lose the stage order)."""
    from training.sft import setup

    _, _, plan, trainer = setup(sft_cfg(tiny_model, traces, tmp_path / "o"))
    want = [e.ids for _, batch in plan for e in batch]
    got = [b["input_ids"][0].tolist() for b in trainer.get_train_dataloader()]
    assert got == want


def test_loss_falls_and_a_resumed_run_continues_the_step_count(tiny_model, traces, tmp_path):
    out = tmp_path / "run"
    first = train(sft_cfg(tiny_model, traces, out, max_steps=6, save_steps=3))
    rows = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == list(range(1, 7))
    assert rows[-1]["loss"] < rows[0]["loss"]
    assert first["padding_share"] == 0.0
    assert (out / "final" / "model.safetensors").exists()
    # Pretend the run was killed after step 3: only checkpoint-3 and its metrics remain.
    import shutil

    shutil.rmtree(out / "checkpoint-6", ignore_errors=True)
    shutil.rmtree(out / "final")
    resumed = train(sft_cfg(tiny_model, traces, out, max_steps=6, save_steps=3))
    assert resumed["resumed_from"] == 3
    rows = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == list(range(1, 7))  # continued, no duplicates
    from transformers import AutoModelForCausalLM

    assert AutoModelForCausalLM.from_pretrained(out / "final").config.num_hidden_layers == 2


def test_lora_run_writes_a_merged_checkpoint(tiny_model, traces, tmp_path):
    from training.sft import LoraConfig

    summary = train(
        sft_cfg(
            tiny_model, traces, tmp_path / "lora", max_steps=2, lora=LoraConfig(enabled=True, r=4, alpha=8)
        )
    )
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(summary["final"])
    assert not any("lora" in n for n, _ in model.named_parameters())


def test_tensorboard_without_the_package_is_one_clear_error(monkeypatch, tmp_path):
    import sys

    monkeypatch.setitem(sys.modules, "tensorboard", None)  # as if not installed
    cfg = SFTConfig(model="m", traces=str(tmp_path), output=str(tmp_path / "o"), report_to=["tensorboard"])
    with pytest.raises(ValueError, match=r"pip install -e '\.\[tb\]'"):
        train(cfg)


@pytest.mark.parametrize("micro", [1, 2])
def test_the_models_own_head_gives_trls_fused_loss(tiny_model, traces, tmp_path, micro):
    """``fused_lm_head: false`` (the model's head and loss through the same Trainer) trains
    the same: equal loss curves to TRL's fused head, one trace per forward or packed."""
    curves = {}
    for fused in (True, False):
        out = tmp_path / f"f{fused}"
        train(
            sft_cfg(
                tiny_model,
                traces,
                out,
                max_steps=3,
                save_steps=10,
                micro_batch_size=micro,
                fused_lm_head=fused,
            )
        )
        curves[fused] = [json.loads(x)["loss"] for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert curves[False] == pytest.approx(curves[True], rel=1e-3)
