"""verl, for real (verl 0.9.1, the ``.[verl]`` extra): the shipped configs through verl's own
Hydra composition and ``validate_config``; the exported Parquet through verl's
``RLHFDataset``; RAMP's agent loop built from ``configs/verl/agent_loops.yaml`` the way verl's
agent-loop worker builds it, run against a real ``ramp serve-retriever``; the reward through
verl's custom-reward loader. verl's trainer itself needs GPUs and Ray and is not run here."""

from __future__ import annotations

import asyncio

import pyarrow.parquet as pq
import pytest

from tests.conftest import ROOT, SMOLLM2
from tests.helpers import retriever_server
from training.verl_export import AGENT_NAME, VERL_SCHEMA, export_verl
from training.verl_reward import compute_score

pytest.importorskip("verl", reason="verl is not installed (pip install -e '.[verl]')")

CONFIGS = ROOT / "configs" / "verl"


def compose(name: str, model_path: str, *overrides: str):
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    with initialize_config_dir(config_dir=str(CONFIGS), version_base=None):
        return hydra_compose(
            config_name=name,
            overrides=[f"ramp.home={ROOT}", "ramp.data=/data", f"ramp.model={model_path}", *overrides],
        )


@pytest.fixture(scope="module")
def model_dir():
    from agents.models import resolve

    return resolve(SMOLLM2)


@pytest.mark.parametrize("name", ["ramp_grpo", "ramp_dapo", "ramp_ppo"])
def test_configs_compose_and_pass_verls_own_checks(name, model_dir):
    from omegaconf import OmegaConf
    from verl.trainer.ppo.utils import need_critic, need_reference_policy
    from verl.utils.config import omega_conf_to_dataclass, validate_config

    cfg = compose(name, model_dir)
    validate_config(cfg, use_reference_policy=need_reference_policy(cfg), use_critic=need_critic(cfg))
    rollout = omega_conf_to_dataclass(cfg.actor_rollout_ref.rollout)
    algorithm = omega_conf_to_dataclass(cfg.algorithm)
    assert need_critic(cfg) == (name == "ramp_ppo")
    assert algorithm.filter_groups.enable == (name == "ramp_dapo")
    assert list(cfg.trainer.logger) == ["console"]
    assert cfg.reward.custom_reward_function.path == "pkg://training.verl_reward"
    # the agent loop config verl loads, and a response budget that holds every turn
    loops = OmegaConf.load(cfg.actor_rollout_ref.rollout.agent.agent_loop_config_path)
    ramp = next(entry for entry in loops if entry.name == AGENT_NAME)
    assert cfg.actor_rollout_ref.rollout.agent.default_agent_loop == AGENT_NAME
    assert (
        ramp.max_turns * ramp.max_tokens + (ramp.max_turns - 1) * ramp.topk * 200 <= rollout.response_length
    )
    assert rollout.multi_turn.max_assistant_turns >= ramp.max_turns
    # paths are never guessed: each comes from the command line
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    with initialize_config_dir(config_dir=str(CONFIGS), version_base=None):
        bare = hydra_compose(config_name=name)
    for key in ("home", "data", "model"):
        assert OmegaConf.is_missing(bare.ramp, key)
    with pytest.raises(Exception, match="ramp.data"):
        OmegaConf.to_container(bare.data, resolve=True)
    assert cfg.data.train_files == "/data/train.parquet"


def test_export_schema_and_rows(demo_data, tmp_path):
    counts = export_verl(str(demo_data / "data" / "tasks"), str(tmp_path), exclude_source=True)
    train = pq.read_table(tmp_path / "train.parquet")
    assert train.schema.equals(VERL_SCHEMA)
    assert train.num_rows == counts["train"] > 0
    row = train.to_pylist()[0]
    assert row["data_source"] == "ramp" and row["prompt"][0]["role"] == "user"
    assert "[mask]" in row["prompt"][0]["content"]
    gt = row["reward_model"]["ground_truth"]
    assert len(gt["target"]) == gt["num_masks"] >= 1
    assert row["extra_info"]["split"] == "train" and row["agent_name"] == AGENT_NAME
    assert len(row["extra_info"]["exclude_ids"]) == 1
    assert pq.read_table(tmp_path / "test.parquet").num_rows == counts["test"]


def verl_dataset(export_dir, cfg, tokenizer):
    from verl.utils.dataset.rl_dataset import RLHFDataset

    return RLHFDataset(data_files=[str(export_dir / "train.parquet")], tokenizer=tokenizer, config=cfg.data)


def test_exported_rows_load_through_verls_dataset(demo_data, tmp_path, model_dir, tokenizer_smollm2):
    export_verl(str(demo_data / "data" / "tasks"), str(tmp_path), exclude_source=True)
    ds = verl_dataset(tmp_path, compose("ramp_grpo", model_dir), tokenizer_smollm2)
    item = ds[0]
    row = pq.read_table(tmp_path / "train.parquet").to_pylist()[0]
    assert item["agent_name"] == AGENT_NAME
    assert item["raw_prompt"][0]["content"] == row["prompt"][0]["content"]
    assert list(item["extra_info"]["exclude_ids"]) == row["extra_info"]["exclude_ids"]
    gt = row["reward_model"]["ground_truth"]
    assert item["reward_model"]["ground_truth"]["num_masks"] == gt["num_masks"]


def test_compute_score_reads_only_what_the_policy_wrote():
    gt = {"target": ["Lisbon", "Tagus"], "num_masks": 2}
    perfect = "<think>x</think><answer>Lisbon | Tagus</answer>"
    assert compute_score("ramp", perfect, gt) == pytest.approx(1.0)
    # a retrieved document with an <answer> tag (it lowered 1.0 to 0.9 before)
    retrieved = (
        "<search>q</search>user\n<information>Doc 1(Title: X) <answer>Porto</answer> "
        "</information>\nassistant\n"
    )
    assert compute_score("ramp", retrieved + perfect, gt) == pytest.approx(1.0)
    # a block cut off by the response budget is not read either
    assert compute_score("ramp", perfect + "\n<information>Doc 1 <answer>x</answer>", gt) == pytest.approx(
        1.0
    )
    # the ramp_agent loop's own turns, when verl passes them, are what is scored
    turns = {"ramp_messages": ["<search>q</search>", "<answer>Lisbon | Tagus</answer>"]}
    assert compute_score("ramp", "anything", gt, turns) == pytest.approx(1.0)
    assert compute_score("ramp", "no answer", gt) == 0.0
    assert compute_score("nq", "<answer>Paris</answer>", ["Paris"], reward="answer_em") == 1.0


class HFServerManager:
    """Plays verl's async server manager (``LLMServerClient.generate``: token ids in, verl's
    ``TokenOutput`` out) with real SmolLM2 through RAMP's HF backend. A stand-in: verl's real
    rollout servers are vLLM / SGLang replicas, which need CUDA."""

    def __init__(self, backend):
        self.backend, self.calls = backend, []

    async def generate(self, request_id, *, prompt_ids, sampling_params, **_):
        from verl.workers.rollout.replica import TokenOutput

        from ramp.llm import Sampling

        sampling = Sampling(
            temperature=sampling_params.get("temperature", 0.0),
            max_tokens=sampling_params["max_tokens"],
            stop=list(sampling_params.get("stop") or []),
        )
        out = await asyncio.get_running_loop().run_in_executor(
            None, lambda: self.backend.generate_tokens([list(prompt_ids)], sampling)[0]
        )
        self.calls.append({"params": dict(sampling_params), "ids": list(out.ids)})
        return TokenOutput(token_ids=out.ids, log_probs=out.logprobs, stop_reason="completed")


@pytest.fixture(scope="module")
def retriever_url(demo_data):
    with retriever_server(demo_data / "index") as url:
        yield url


class Spy:
    """The loop's real HTTP retriever, recording the exclude_ids it sends."""

    def __init__(self, retriever):
        self.retriever, self.excluded = retriever, []

    def search(self, queries, k, exclude_ids=None):
        self.excluded += [list(e) for e in (exclude_ids or [])]
        return self.retriever.search(queries, k, exclude_ids)


def runs(mask: list[int], value: int) -> list[tuple[int, int]]:
    """(start, end) of each run of ``value`` in ``mask``."""
    out, start = [], None
    for i, m in enumerate([*mask, 1 - value]):
        if m == value and start is None:
            start = i
        elif m != value and start is not None:
            out.append((start, i))
            start = None
    return out


@pytest.mark.slow
def test_export_dataset_agent_loop_and_reward_end_to_end(
    demo_data, searching_model, retriever_url, tmp_path, monkeypatch
):
    """``ramp export-verl`` -> verl's RLHFDataset -> the ramp_agent loop (built from
    agent_loops.yaml as verl's worker builds it; real SmolLM2 after RAMP-SFT, a real retrieval
    server) -> compute_score through verl's custom-reward loader."""
    import hydra
    from omegaconf import OmegaConf
    from transformers import AutoTokenizer
    from verl.experimental.agent_loop.agent_loop import DictConfigWrap, ToolListWrap
    from verl.trainer.ppo.reward import get_custom_reward_fn
    from verl.utils.dataset.rl_dataset import RLHFDataset

    from agents.chat import environment_ids
    from agents.llm.hf import HFBackend
    from agents.search.http import HttpRetriever
    from ramp.rewards import HYBRID, weighted

    monkeypatch.setenv("RAMP_RETRIEVER_URL", retriever_url)
    export_verl(str(demo_data / "data" / "tasks"), str(tmp_path), exclude_source=True)
    tokenizer = AutoTokenizer.from_pretrained(searching_model)
    cfg = compose("ramp_grpo", str(searching_model), "data.max_response_length=1536")
    item = verl_dataset(tmp_path, cfg, tokenizer)[0]
    entry = next(
        e
        for e in OmegaConf.load(cfg.actor_rollout_ref.rollout.agent.agent_loop_config_path)
        if e.name == item["agent_name"]
    )
    server = HFServerManager(HFBackend(str(searching_model), batch_size=1))
    loop = hydra.utils.instantiate(
        config=entry,
        trainer_config=DictConfigWrap(config=cfg),
        server_manager=server,
        tokenizer=tokenizer,
        processor=None,
        hf_model_type="llama",
        dataset_cls=RLHFDataset,
        data_config=DictConfigWrap(cfg.data),
        tools=ToolListWrap([]),
        max_turns=3,
        max_tokens=96,
    )
    loop.retriever = Spy(loop.retriever)
    out = asyncio.run(loop.run({"temperature": 0.0, "logprobs": True}, **item))

    # generation stops at </search>: RAMP's stop strings reach the server, kept in the output
    first = tokenizer.decode(server.calls[0]["ids"], skip_special_tokens=True)
    assert {"</search>", "</answer>"} <= set(server.calls[0]["params"]["stop"])
    assert first.rstrip().endswith("</search>"), first
    assert out.extra_fields["searches"] >= 1
    # token in, token out: the policy's runs are exactly the ids the server sampled ...
    ids, mask = out.response_ids, out.response_mask
    assert [i for i, m in zip(ids, mask) if m] == [t for c in server.calls for t in c["ids"]]
    # ... and response_mask is 0 on exactly the retrieved turns, each the SFT traces' user turn
    zeros = runs(mask, 0)
    assert len(zeros) == out.extra_fields["searches"]
    messages = [dict(m) for m in item["raw_prompt"]]
    for call, (start, end) in zip(server.calls, zeros):
        said = tokenizer.decode(call["ids"], skip_special_tokens=True)
        messages.append({"role": "assistant", "content": said})
        text = tokenizer.decode(ids[start:end], skip_special_tokens=True)
        info = text[text.index("<information>") : text.rindex("</information>") + len("</information>")]
        assert ids[start:end] == environment_ids(tokenizer, messages, info)
        messages.append({"role": "user", "content": info})
    # exclude_ids reached the retrieval server, and it hides the task's own passage: with the
    # masked passage as the query BM25 ranks it first, with the row's exclude_ids not at all
    own = [str(i) for i in item["extra_info"]["exclude_ids"]]
    assert loop.retriever.excluded and all(e == own for e in loop.retriever.excluded)
    passage = item["raw_prompt"][0]["content"].split("Passage:", 1)[1]
    real = HttpRetriever(retriever_url)
    assert real.search([passage], 3)[0][0].id == own[0]
    assert own[0] not in [h.id for h in real.search([passage], 3, [own])[0]]

    # the reward, loaded by verl, scores what ramp rl's rewards score for the same tokens
    reward_fn = get_custom_reward_fn(cfg)
    solution = tokenizer.decode(ids, skip_special_tokens=True)  # verl's reward managers decode so
    gt = item["reward_model"]["ground_truth"]
    verl_score = reward_fn(item["data_source"], solution, gt, dict(item["extra_info"], **out.extra_fields))
    ramp_score = weighted(HYBRID)(
        [""], [solution], answers=[list(gt["target"])], num_masks=[int(gt["num_masks"])]
    )[0]
    assert verl_score == pytest.approx(ramp_score)
