import pytest

from pipelines.config import DataConfig
from ramp.config import ConfigError, load_config, parse_overrides


def test_yaml_then_flags_then_overrides(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("# ramp data --config c.yaml\nseed: 3\nmasking:\n  strategy: random\n")
    cfg = load_config(
        DataConfig, path, ["masking.max_masks=2", "spans.terms=true"], {"output": "out", "seed": 5}
    )
    assert cfg.seed == 5 and cfg.output == "out"
    assert cfg.masking.strategy == "random" and cfg.masking.max_masks == 2
    assert cfg.spans.terms is True


def test_unknown_keys_and_bad_types_are_errors(tmp_path):
    with pytest.raises(ConfigError, match="unknown key"):
        load_config(DataConfig, None, ["masking.strategyy=random"])
    with pytest.raises(ConfigError, match="integer"):
        load_config(DataConfig, None, ["seed=abc"])
    with pytest.raises(ConfigError, match="key=value"):
        parse_overrides(["seed"])


def test_shipped_configs_load_and_name_their_command():
    """Every shipped stage config names its command on line 1 and loads into its dataclass
    (unknown keys are errors, so a renamed field breaks this test)."""
    from agents.traces import TracesConfig
    from ramp.cli import CONFIG_DIR
    from training.eval import EvalConfig
    from training.rl import RLConfig
    from training.sft import SFTConfig

    schemas = {
        "data": DataConfig,
        "traces": TracesConfig,
        "sft": SFTConfig,
        "rl": RLConfig,
        "eval": EvalConfig,
    }
    for stage, schema in schemas.items():
        files = sorted(CONFIG_DIR.glob(f"{stage}/*.yaml"))
        assert len(files) >= 2, stage  # default + demo
        for f in files:
            assert f.read_text().startswith(f"# ramp {stage} "), f
            load_config(schema, f)
    assert load_config(DataConfig, CONFIG_DIR / "data" / "demo.yaml").spacy.model


def test_exponent_floats_without_a_dot_are_numbers():
    """YAML 1.1 reads ``1e-3`` as a string; a float field still takes it (``lr=1e-3``)."""
    from training.sft import SFTConfig

    assert load_config(SFTConfig, None, ["lr=1e-3"]).lr == 0.001
    with pytest.raises(ConfigError, match="expected a number"):
        load_config(SFTConfig, None, ["lr=fast"])


def test_a_nested_section_keeps_its_parents_defaults():
    """RLConfig's loop samples at temperature 1.0 (LoopConfig's own default is greedy);
    overriding one loop key must not reset the others to LoopConfig's defaults."""
    from training.rl import RLConfig

    cfg = load_config(RLConfig, None, ["loop.max_tokens=8"])
    assert cfg.loop.max_tokens == 8 and cfg.loop.temperature == RLConfig().loop.temperature == 1.0
