"""Fixtures for the training tests (the shared ones live in tests/conftest.py)."""

import pytest

from tests.conftest import SMOLLM2  # noqa: F401


@pytest.fixture(scope="session")
def searching_model(demo_data, tmp_path_factory):
    """Real SmolLM2-135M after 6 RAMP-SFT steps on rule-teacher traces of the demo tasks:
    it writes ``<search>`` (the base model never does). Greedy decoding of it is deterministic."""
    from agents.traces import TracesConfig, run
    from ramp.cli import CONFIG_DIR
    from ramp.config import load_config
    from training.sft import SFTConfig, train

    root = tmp_path_factory.mktemp("searching")
    run(
        load_config(
            TracesConfig,
            CONFIG_DIR / "traces" / "default.yaml",
            [],
            {
                "tasks": str(demo_data / "data" / "tasks"),
                "index": str(demo_data / "index"),
                "output": str(root / "traces"),
                "limit": 16,
            },
        ),
        log=lambda *a: None,
    )
    summary = train(
        SFTConfig(
            model=SMOLLM2,
            traces=str(root / "traces"),
            output=str(root / "sft"),
            batch_size=2,
            lr=5e-4,
            curriculum="mixed",
            max_steps=6,
            save_steps=100,
            max_length=768,
            fused_lm_head=False,
        )
    )
    return root / "sft" / "final" if summary["final"] else None


@pytest.fixture(scope="session")
def traces(demo_data, tmp_path_factory):
    from agents.traces import TracesConfig, run
    from ramp.cli import CONFIG_DIR
    from ramp.config import load_config

    out = tmp_path_factory.mktemp("traces")
    cfg = load_config(
        TracesConfig,
        CONFIG_DIR / "traces" / "default.yaml",
        [],
        {"tasks": str(demo_data / "data" / "tasks"), "index": str(demo_data / "index"), "output": str(out)},
    )
    run(cfg)
    return out
