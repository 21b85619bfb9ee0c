"""``ramp rl``: GRPO / DAPO on multi-turn search rollouts, on TRL's ``GRPOTrainer``.

The engine is TRL (accelerate underneath: CPU, one GPU, DDP, FSDP, DeepSpeed; HF ``generate``
or vLLM colocate / server for the rollouts). RAMP supplies:

- the **rollout** (:class:`SearchRollout`, TRL's ``rollout_func``): each prompt runs through
  the same :class:`agents.loop.AgentLoop` as eval and the teacher, in token mode: the policy
  continues token ids, ``<search>`` calls the retriever, and the ``<information>`` turn is
  appended as ids with ``env_mask`` 0 (TRL multiplies it into the loss mask), so retrieved
  text is never trained and the trainer sees exactly the sampled ids and their log-probs;
- the **rewards**: :mod:`ramp.rewards` functions (TRL's signature) and the judge, weighted;
- **curriculum order** (stage 1 first; QA files in file order) and DAPO's **dynamic
  sampling** (groups whose rewards are all equal are replaced by new tasks, inside the
  rollout, up to ``max_sampling_rounds``); the simulated engine's noise follows the
  trainer's global step;
- ``metrics.jsonl`` (rank 0), ``final/``; Trainer ``checkpoint-N`` for resume.

Setup -> train -> save: :func:`train`.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import time
from dataclasses import dataclass, field
from typing import Any

from agents.chat import prompt_ids
from agents.llm import LLMConfig
from agents.loop import AgentEpisode, AgentLoop, LoopConfig, TokenTrace
from agents.search.simulated import SimulatedConfig
from ramp.curriculum import by_num_masks
from ramp.rewards import REWARDS
from ramp.text import stable_hash
from training import checkpoints, engine
from training.eval import load_items

logger = logging.getLogger(__name__)
ALGORITHMS = {"grpo": "group", "reinforce_pp": "batch"}  # -> TRL scale_rewards


@dataclass
class RLConfig:
    model: str = field(default="", metadata={"help": "the policy: SFT output, local dir or Hub name"})
    tasks: str = field(
        default="",
        metadata={
            "help": "a RAMP task dir (stage I, curriculum order) or a QA file `ramp eval` reads (stage II)"
        },
    )
    index: str = field(
        default="",
        metadata={
            "help": "index dir, retriever URL, or 'simulated' (ZeroSearch engine on simulated.model, "
            "else on the frozen reference)"
        },
    )
    output: str = field(default="", metadata={"help": "checkpoints, metrics.jsonl, final/"})
    algorithm: str = field(
        default="grpo",
        metadata={"help": "grpo (advantages normalised per group) | reinforce_pp (by the batch std)"},
    )
    loss_type: str = field(
        default="dapo",
        metadata={"help": "TRL loss_type: dapo (token-level over the batch) | grpo | dr_grpo | bnpo"},
    )
    steps: int = field(default=10, metadata={"help": "optimizer steps"})
    prompts_per_step: int = field(default=2, metadata={"help": "tasks per step, over all processes"})
    group_size: int = field(default=4, metadata={"help": "rollouts per task (TRL num_generations)"})
    lr: float = field(default=1.0e-5, metadata={"help": "learning rate (constant)"})
    kl_coef: float = field(default=0.02, metadata={"help": "KL to the frozen reference (TRL beta); 0: none"})
    clip_eps: float = field(default=0.2, metadata={"help": "ratio clipping (TRL epsilon)"})
    clip_eps_high: float | None = field(
        default=None, metadata={"help": "DAPO clip-higher (TRL epsilon_high, e.g. 0.28); None: clip_eps"}
    )
    dynamic_sampling: bool = field(
        default=False,
        metadata={"help": "DAPO: replace groups whose rewards are all equal by new tasks (grpo only)"},
    )
    max_sampling_rounds: int = field(default=3, metadata={"help": "dynamic sampling: rounds per step"})
    ppo_epochs: int = field(
        default=1,
        metadata={"help": "updates per batch of rollouts (TRL num_iterations); clipping acts only above 1"},
    )
    max_length: int = field(default=1024, metadata={"help": "prompt + completion tokens at most"})
    save_steps: int = field(
        default=5, metadata={"help": "checkpoint-N every N steps; a rerun resumes from the newest"}
    )
    keep_checkpoints: int = field(default=2, metadata={"help": "newest checkpoints kept"})
    rewards: dict[str, float] = field(
        default_factory=lambda: {"format": 0.2, "answer_recall": 0.8},
        metadata={"help": "weighted ramp.rewards functions (+ judge)"},
    )
    loop: LoopConfig = field(
        default_factory=lambda: LoopConfig(max_turns=2, topk=2, retries=0, max_tokens=48, temperature=1.0),
        metadata={"help": "the rollouts' agent loop"},
    )
    simulated: SimulatedConfig = field(
        default_factory=lambda: SimulatedConfig(total_steps=10, max_tokens=200),
        metadata={"help": "the ZeroSearch engine of index 'simulated'"},
    )
    judge: LLMConfig = field(
        default_factory=LLMConfig,
        metadata={
            "help": "the judge reward's LLM; hf with model '' is the frozen reference; or openai: "
            "base_url + model of e.g. a 72B judge on vLLM"
        },
    )
    judge_prompt_version: str = field(default="v1", metadata={"help": "the judge reward's prompt version"})
    split: str = field(default="train", metadata={"help": "task split (RAMP task dirs)"})
    exclude_source: bool = field(
        default=False,
        metadata={
            "help": "search never returns a task's own passage: the cross-document stage (tasks "
            "staged by `ramp curriculum --measure search_need`, stage 1)"
        },
    )
    prompt_version: str = field(default="v1", metadata={"help": "agent_ramp / agent_qa prompt version"})
    limit: int | None = field(default=None, metadata={"help": "first N tasks / questions"})
    seed: int = field(default=0, metadata={"help": "task order, sampling, init"})
    bf16: bool = field(default=True, metadata={"help": "bf16 mixed precision (CPU autocast or GPU)"})
    gradient_checkpointing: bool = field(default=False, metadata={"help": "trade compute for memory"})
    use_vllm: bool = field(default=False, metadata={"help": "rollouts on vLLM (CUDA) instead of HF generate"})
    vllm_mode: str = field(default="colocate", metadata={"help": "colocate | server (trl vllm-serve)"})
    vllm_server_base_url: str | None = field(default=None, metadata={"help": "server mode: its URL"})
    vllm_gpu_memory_utilization: float = field(default=0.3, metadata={"help": "colocate: vLLM's share"})
    report_to: list[str] = field(
        default_factory=lambda: ["none"],
        metadata={"help": "Trainer loggers: none | tensorboard | wandb | trackio (metrics.jsonl always)"},
    )


def stage(items) -> int:
    """The step's curriculum stage: the hardest RAMP stage sampled (1-4), 0 for QA."""
    return max((by_num_masks({"num_masks": t.num_masks}) for t in items if t.num_masks), default=0)


def stable_seed(*parts: int) -> int:
    """A sampling seed from (seed, step, round, rank): distinct for every combination (the
    agent loop adds its own small turn and chunk offsets)."""
    return stable_hash("rollout-seed", *parts) & 0x3FFFFFFF


def informative_groups(rewards: list[float], group_size: int) -> list[int]:
    """DAPO's dynamic-sampling filter: the groups whose rewards are not all equal (a group
    of equal rewards has zero advantage everywhere and teaches nothing)."""
    return [
        g
        for g in range(len(rewards) // group_size)
        if len(set(rewards[g * group_size : (g + 1) * group_size])) > 1
    ]


@dataclass
class Rollouts:
    """Rollouts of one step: ``group_size`` episodes per task, rewards per episode."""

    tasks: list = field(default_factory=list)
    episodes: list = field(default_factory=list)
    rewards: list[float] = field(default_factory=list)
    kept: list[int] = field(default_factory=list)  # groups with signal (rewards not all equal)
    train_groups: list[int] = field(default_factory=list)  # the groups handed to the trainer

    def add(self, other: Rollouts) -> int:
        base = len(self.tasks)
        self.tasks += other.tasks
        self.episodes += other.episodes
        self.rewards += other.rewards
        return base


def collect_groups(rollout, draw, want: int, group_size: int, rounds: int) -> Rollouts:
    """One step's rollouts; ``kept`` lists the groups with signal in every mode.
    ``rounds == 0``: one round of ``want`` tasks, all trained on.
    ``rounds >= 1`` (DAPO dynamic sampling): sample ``want`` tasks, keep the groups whose
    rewards differ, draw more tasks for the missing groups, at most ``rounds`` rounds; the
    trainer gets the kept groups, topped up to ``want`` with the latest groups without
    signal (only their KL term moves)."""
    out = Rollouts()
    for r in range(max(rounds, 1)):
        got = rollout(draw(want - len(out.kept), r), r)
        base = out.add(got)
        out.kept += [base + g for g in informative_groups(got.rewards, group_size)]
        if rounds == 0:
            out.train_groups = list(range(len(out.tasks)))
            return out
        if len(out.kept) >= want:
            break
    rest = [g for g in reversed(range(len(out.tasks))) if g not in out.kept]
    out.train_groups = sorted(out.kept[:want] + rest[: want - len(out.kept[:want])])
    return out


def reward_functions(cfg: RLConfig, frozen) -> list:
    """The configured rewards (checked by :func:`check`), each named by its config key (TRL
    logs ``rewards/<key>/mean``)."""
    named = dict(REWARDS)
    if "judge" in cfg.rewards:
        from agents.judge import judge_reward
        from agents.llm import make_llm

        judge_llm = (
            _Lazy(frozen) if cfg.judge.backend == "hf" and not cfg.judge.model else make_llm(cfg.judge)
        )
        named["judge"] = judge_reward(judge_llm, cfg.judge_prompt_version)

    def rename(fn, name):
        wrapped = functools.wraps(fn)(lambda *a, **k: fn(*a, **k))
        wrapped.__name__ = wrapped.__qualname__ = name
        return wrapped

    return [rename(named[name], name) for name in cfg.rewards]


class _Lazy:
    """An LLM made on first use (the frozen reference exists only once the trainer does)."""

    def __init__(self, make):
        self.make, self.name = make, "reference"

    def generate(self, conversations, sampling):
        return self.make().generate(conversations, sampling)


class SearchRollout:
    """TRL's ``rollout_func``: multi-turn search episodes through the agent loop, token in,
    token out. TRL hands each process its slice of prompts, ``group_size`` copies of each."""

    def __init__(self, cfg: RLConfig, tasks: list, reward_fns: list, retriever, tokenizer):
        self.cfg, self.tasks, self.reward_fns = cfg, tasks, reward_fns
        self.retriever, self.tokenizer = retriever, tokenizer
        self.by_prompt = {t.prompt: t for t in tasks}
        self.position = {t.prompt: i for i, t in enumerate(tasks)}  # curriculum order
        self.backend = None
        self.stats: dict[str, float] = {}  # the last step's rollout metrics (all processes)

    def _llm(self, trainer, model):
        if self.cfg.use_vllm:
            from agents.llm.vllm import VLLMTokenBackend

            server = self.cfg.vllm_mode == "server"
            if self.backend is None:
                gen = trainer.vllm_generation
                engine = gen.llm if not server else getattr(gen, "vllm_client", None)
                if engine is None:  # TRL opens the server client (and weight sync) on rank 0 only
                    from trl.generation.vllm_client import VLLMClient

                    engine = VLLMClient(
                        base_url=trainer.args.vllm_server_base_url,
                        host=trainer.args.vllm_server_host,
                        server_port=trainer.args.vllm_server_port,
                        connection_timeout=trainer.args.vllm_server_timeout,
                    )
                self.backend = VLLMTokenBackend(engine, self.tokenizer, server)
            return self.backend
        if self.backend is None:  # one backend: its stop criteria are built once
            from agents.llm.hf import HFBackend

            self.backend = HFBackend(
                self.cfg.model, batch_size=8, autocast=self.cfg.bf16, hf_model=model, tokenizer=self.tokenizer
            )
        self.backend.model = model
        return self.backend

    def run(self, llm, chosen: list, seed: int) -> Rollouts:
        g = self.cfg.group_size
        prompts = {
            t.id: prompt_ids(self.tokenizer, [{"role": "user", "content": t.prompt}]) for t in chosen
        }  # rendered once per task, copied per group member
        episodes = [
            AgentEpisode(
                id=f"{t.id}#{i}",
                messages=[{"role": "user", "content": t.prompt}],
                question=t.question,
                gold=t.hint,
                exclude_ids=list(t.exclude),
                tokens=TokenTrace(list(prompts[t.id])),
            )
            for t in chosen
            for i in range(g)
        ]
        AgentLoop(llm, self.retriever, self.cfg.loop).run(episodes, seed=seed)
        rewards = [0.0] * len(episodes)
        if self.cfg.dynamic_sampling:  # the trainer scores the kept groups again (same functions)
            group_tasks = [t for t in chosen for _ in range(g)]
            columns = {
                "answers": [list(t.golds) for t in group_tasks],
                "num_masks": [t.num_masks for t in group_tasks],
            }
            prompts = [e.messages[:1] for e in episodes]
            completions = [e.messages[1:] for e in episodes]
            for fn, w in zip(self.reward_fns, self.cfg.rewards.values()):
                for i, v in enumerate(fn(prompts, completions, **columns)):
                    rewards[i] += w * v
        return Rollouts(list(chosen), episodes, rewards)

    def draw_extra(self, after, rank: int, world: int, r: int, n: int) -> list:
        """Tasks for dynamic sampling's round ``r``: the ones that follow this step's tasks in
        curriculum order (each rank and round its own slice), so the stage order holds and a
        resumed run draws the same ones."""
        start = self.position[after.prompt] + 1 + ((r - 1) * world + rank) * n
        return [self.tasks[(start + i) % len(self.tasks)] for i in range(n)]

    def __call__(self, prompts: list, trainer) -> dict[str, list]:
        cfg, g = self.cfg, self.cfg.group_size
        step, rank = trainer.state.global_step, trainer.accelerator.process_index
        world = trainer.accelerator.num_processes
        if len(prompts) % g:
            raise ValueError(f"{len(prompts)} prompts on this process: not whole groups of {g}")
        chosen = [self.by_prompt[p[-1]["content"]] for p in prompts[::g]]
        started = time.perf_counter()
        if cfg.index == "simulated":
            self.retriever.step = step
        with self._generating(trainer) as model:
            llm = self._llm(trainer, model)
            got = collect_groups(
                lambda tasks, r: self.run(llm, tasks, stable_seed(cfg.seed, step, r, rank)),
                lambda n, r: chosen if r == 0 else self.draw_extra(chosen[-1], rank, world, r, n),
                len(chosen),
                g,
                cfg.max_sampling_rounds if cfg.dynamic_sampling else 0,
            )
        self._gather_stats(trainer, got, time.perf_counter() - started)
        return self._outputs(got)

    @contextlib.contextmanager
    def _generating(self, trainer):
        """The policy, ready to generate: with vLLM nothing (TRL syncs its weights); with HF
        ``generate`` TRL's unwrapped model (ZeRO-3 weights gathered), in eval mode."""
        if self.cfg.use_vllm:
            yield None
            return
        from trl.models.utils import unwrap_model_for_generation

        with unwrap_model_for_generation(
            trainer.model_wrapped,
            trainer.accelerator,
            gather_deepspeed3_params=trainer.args.ds3_gather_for_generation,
            gradient_checkpointing_kwargs=trainer.args.gradient_checkpointing_kwargs,
        ) as model:
            was_training = model.training
            model.eval()
            try:
                yield model
            finally:
                model.train(was_training)

    def _outputs(self, got: Rollouts) -> dict[str, list]:
        g, out = (
            self.cfg.group_size,
            {
                k: []
                for k in (
                    "prompt_ids",
                    "completion_ids",
                    "logprobs",
                    "env_mask",
                    "answers",
                    "num_masks",
                    "question",
                )
            },
        )
        for group in got.train_groups:
            task = got.tasks[group]
            for e in got.episodes[group * g : (group + 1) * g]:
                room = max(1, self.cfg.max_length - len(e.tokens.prompt_ids))
                out["prompt_ids"].append(e.tokens.prompt_ids)
                out["completion_ids"].append(e.tokens.completion_ids[:room] or [self.tokenizer.eos_token_id])
                out["logprobs"].append(e.tokens.logprobs[:room] or [0.0])
                out["env_mask"].append(e.tokens.env_mask[:room] or [0])
                out["answers"].append(list(task.golds))
                out["num_masks"].append(task.num_masks)
                out["question"].append(task.question)
        return out

    def _gather_stats(self, trainer, got: Rollouts, seconds: float) -> None:
        g = self.cfg.group_size
        trained = [e for grp in got.train_groups for e in got.episodes[grp * g : (grp + 1) * g]]
        mine = {
            "searches": [e.searches for e in got.episodes],
            "stage": [stage(got.tasks)],
            "groups": [len(got.tasks)],
            "groups_signal": [len(got.kept)],
            "groups_trained": [len(got.train_groups)],
            "trained_tokens": [sum(sum(e.tokens.env_mask) for e in trained)],
            "rollout_seconds": [seconds],
        }
        from accelerate.utils import gather_object

        every = gather_object([mine])
        searches = [s for m in every for s in m["searches"]]
        self.stats = {
            "searches": round(sum(searches) / max(1, len(searches)), 3),
            "rollout_seconds": round(max(s for m in every for s in m["rollout_seconds"]), 2),
            "stage": max(s for m in every for s in m["stage"]),
            **{
                k: sum(v for m in every for v in m[k])
                for k in ("groups", "groups_signal", "groups_trained", "trained_tokens")
            },
        }
        if self.cfg.index == "simulated":
            self.stats["noise_p"] = self.retriever.noise_p()


class StepRows:
    """``metrics.jsonl`` rows with the names ``ramp rl`` has always written: TRL's logged
    reward, per-reward means, KL and loss, and the rollout's own statistics."""

    def __init__(self, rollout: SearchRollout, cfg: RLConfig):
        self.rollout, self.cfg = rollout, cfg
        self.start = time.perf_counter()
        self.last: dict[str, Any] = {}

    def __call__(self, state, logs) -> dict | None:
        if "reward" not in logs:
            return None
        stats, cfg = self.rollout.stats, self.cfg
        signal = (
            stats.get("groups_signal", 0)
            if cfg.dynamic_sampling
            # TRL's share otherwise
            else round(stats.get("groups", 0) * (1 - logs.get("frac_reward_zero_std", 1.0)))
        )
        row = {
            "step": state.global_step,
            "stage": stats.get("stage", 0),
            "reward": _round(logs["reward"], 4),
            **{f"reward/{k}": _round(logs.get(f"rewards/{k}/mean", 0.0), 4) for k in cfg.rewards},
            "kl": _round(logs.get("kl", 0.0), 6),
            "loss": _round(logs.get("loss", 0.0), 6),
            "searches": stats.get("searches", 0.0),
            "noise_p": stats.get("noise_p"),
            "trained_tokens": stats.get("trained_tokens", 0),
            "groups": stats.get("groups", 0),
            "groups_signal": signal,
            "groups_trained": stats.get("groups_trained", 0),
            "rollout_seconds": stats.get("rollout_seconds", 0.0),
            "seconds": round(time.perf_counter() - self.start, 1),
        }
        self.last = row
        logger.info(
            "step %d/%d reward %s kl %s searches %.2f groups with signal %d/%d",
            row["step"],
            cfg.steps,
            row["reward"],
            row["kl"],
            row["searches"],
            row["groups_signal"],
            row["groups"],
        )
        return row


def check_sharding(accelerator, cfg: RLConfig) -> None:
    """Generation that needs whole weights must have them: under FSDP (and for the frozen
    reference under ZeRO-3) every generate step is a collective, and ranks roll out different
    numbers of turns, so HF generation there would hang. Said up front instead."""
    kind = str(accelerator.distributed_type).rsplit(".", 1)[-1]
    plugin = getattr(accelerator.state, "deepspeed_plugin", None)
    zero3 = kind == "DEEPSPEED" and plugin is not None and plugin.zero_stage == 3
    if kind == "FSDP" and not cfg.use_vllm:
        raise ValueError(
            "RL under FSDP needs use_vllm=true (HF generate on sharded weights "
            "would hang); or use configs/accelerate/zero3.yaml"
        )
    reference_generates = (cfg.index == "simulated" and not cfg.simulated.model) or (
        "judge" in cfg.rewards and cfg.judge.backend == "hf" and not cfg.judge.model
    )
    if (kind == "FSDP" or zero3) and reference_generates:
        raise ValueError(
            "under FSDP / ZeRO-3 the frozen reference is sharded: serve the simulated "
            "engine or the judge (index=http://..., judge.backend=openai)"
        )


def _round(value, digits: int):
    """A logged number, rounded; TRL logs None where a metric had no value this step."""
    return None if value is None else round(float(value), digits)


def check(cfg: RLConfig) -> None:
    """Config errors, before any model loads."""
    if not (cfg.model and cfg.tasks and cfg.index and cfg.output):
        raise ValueError("rl needs model=, tasks=, index= and output=")
    if cfg.algorithm not in ALGORITHMS:
        raise ValueError(f"algorithm must be one of {sorted(ALGORITHMS)}")
    if cfg.dynamic_sampling and cfg.algorithm != "grpo":
        raise ValueError(
            "dynamic_sampling filters groups of equal rewards, which carry no "
            "advantage only under grpo (reinforce_pp normalises over the batch)"
        )
    if cfg.dynamic_sampling and not 1 <= cfg.max_sampling_rounds <= 10:
        raise ValueError("max_sampling_rounds must be 1..10")
    if cfg.group_size < 2:
        raise ValueError("group_size must be at least 2 (advantages are relative to the group)")
    unknown = set(cfg.rewards) - set(REWARDS) - {"judge"}
    if unknown:
        raise ValueError(f"unknown rewards {sorted(unknown)}: {sorted(REWARDS)} or judge")
    if cfg.prompts_per_step % engine.world_size():
        raise ValueError(
            f"prompts_per_step ({cfg.prompts_per_step}) must be a multiple of the "
            f"number of processes ({engine.world_size()}): each holds whole groups"
        )


def _trainer_args(cfg: RLConfig):
    from trl import GRPOConfig

    batch = cfg.prompts_per_step * cfg.group_size // engine.world_size()
    vllm = (
        {
            "use_vllm": True,
            "vllm_mode": cfg.vllm_mode,
            "vllm_gpu_memory_utilization": cfg.vllm_gpu_memory_utilization,
            **({"vllm_server_base_url": cfg.vllm_server_base_url} if cfg.vllm_server_base_url else {}),
        }
        if cfg.use_vllm
        else {}
    )
    return GRPOConfig(
        output_dir=cfg.output,
        max_steps=cfg.steps,
        per_device_train_batch_size=batch,
        gradient_accumulation_steps=1,
        num_generations=cfg.group_size,
        generation_batch_size=cfg.prompts_per_step * cfg.group_size,
        learning_rate=cfg.lr,
        lr_scheduler_type="constant",
        weight_decay=0.0,
        max_grad_norm=1.0,
        beta=cfg.kl_coef,
        epsilon=cfg.clip_eps,
        epsilon_high=cfg.clip_eps_high,
        num_iterations=cfg.ppo_epochs,
        loss_type=cfg.loss_type,
        scale_rewards=ALGORITHMS[cfg.algorithm],
        reward_weights=list(cfg.rewards.values()),
        # the trainer scores log-probs at the sampling temperature; greedy rollouts: raw logits
        temperature=cfg.loop.temperature if cfg.loop.temperature > 0 else 1.0,
        max_completion_length=cfg.max_length,
        shuffle_dataset=False,
        seed=cfg.seed,
        bf16=cfg.bf16,
        logging_steps=1,
        save_steps=cfg.save_steps,
        save_total_limit=cfg.keep_checkpoints,
        report_to=cfg.report_to,
        remove_unused_columns=False,
        dataloader_num_workers=0,
        log_completions=False,
        mask_truncated_completions=False,
        gradient_checkpointing=cfg.gradient_checkpointing,  # TRL's default is True
        **vllm,
        **engine.trainer_kwargs(),
    )


def train(cfg: RLConfig, callbacks: list | None = None) -> dict[str, Any]:
    """``callbacks``: extra Trainer callbacks (the distributed tests read each rank's weights)."""
    import torch
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import GRPOTrainer

    from agents.models import resolve
    from agents.search import open_index

    check(cfg)
    os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")  # rollout_func is marked experimental
    # setup
    path = resolve(cfg.model)
    tokenizer = AutoTokenizer.from_pretrained(path)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    # curriculum order: fewer masks first (QA questions have 0 masks: file order kept)
    tasks = sorted(
        load_items(cfg.tasks, cfg.prompt_version, cfg.limit, cfg.split, cfg.exclude_source),
        key=lambda t: t.num_masks,
    )
    if not tasks:
        raise ValueError(f"no {cfg.split} tasks or questions in {cfg.tasks}")
    data = Dataset.from_list(
        [
            {
                "prompt": [{"role": "user", "content": t.prompt}],
                "answers": list(t.golds),
                "num_masks": t.num_masks,
                "question": t.question,
            }
            for t in tasks
        ]
    )
    trainer_box: list = []

    @functools.cache
    def frozen():  # the frozen reference generates too (simulated engine, default judge)
        from agents.llm.hf import HFBackend

        trainer = trainer_box[0]
        reference = (
            trainer.ref_model
            if trainer.ref_model is not None
            else AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
            .to(trainer.args.device)
            .eval()
        )
        return HFBackend(cfg.model, batch_size=8, autocast=cfg.bf16, hf_model=reference, tokenizer=tokenizer)

    if cfg.index == "simulated":
        from agents.llm.hf import HFBackend
        from agents.search.simulated import SimulatedSearchEngine

        simulator = (
            frozen
            if not cfg.simulated.model
            else functools.cache(lambda: HFBackend(cfg.simulated.model, batch_size=8, autocast=cfg.bf16))
        )
        retriever = SimulatedSearchEngine(_Lazy(simulator), cfg.simulated)
    else:
        retriever = open_index(cfg.index)
    rewards = reward_functions(cfg, frozen)
    rollout = SearchRollout(cfg, tasks, rewards, retriever, tokenizer)
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
    trainer = GRPOTrainer(
        model=model,
        reward_funcs=rewards,
        args=_trainer_args(cfg),
        train_dataset=data,
        processing_class=tokenizer,
        rollout_func=rollout,
    )
    engine.quiet_printer(trainer)
    trainer_box.append(trainer)
    check_sharding(trainer.accelerator, cfg)
    resume = checkpoints.latest(cfg.output)
    start_step = checkpoints.step_of(resume)
    metrics_path = os.path.join(cfg.output, "metrics.jsonl")
    if trainer.is_world_process_zero():
        os.makedirs(cfg.output, exist_ok=True)
        checkpoints.keep_metrics_until(metrics_path, start_step)
    rows = StepRows(rollout, cfg)
    for callback in [engine.metrics_callback(metrics_path, rows), *(callbacks or [])]:
        trainer.add_callback(callback)
    if resume:
        logger.info("resuming from %s at step %d", resume, start_step)
    # loop
    t0 = time.perf_counter()
    trainer.train(resume_from_checkpoint=resume)
    seconds = time.perf_counter() - t0
    # save
    final = checkpoints.save_trainer_final(trainer, tokenizer, os.path.join(cfg.output, "final"))
    return engine.write_summary(
        trainer,
        cfg.output,
        {
            "steps": cfg.steps,
            "resumed_from": start_step,
            "algorithm": cfg.algorithm,
            "loss_type": cfg.loss_type,
            "dynamic_sampling": cfg.dynamic_sampling,
            "processes": engine.world_size(),
            "device": str(trainer.args.device),
            "seconds": round(seconds, 1),
            "seconds_per_step": round(seconds / max(1, cfg.steps - start_step), 2),
            "final": final,
            "last": rows.last,
        },
    )
