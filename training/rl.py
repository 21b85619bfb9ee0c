"""``ramp rl``: GRPO (or REINFORCE++) on multi-turn search rollouts, retrieved tokens masked.

Why a small loop of our own rather than TRL's GRPOTrainer: a rollout here is a multi-turn
conversation in which the retriever writes ``<information>`` turns, and the policy loss must
skip exactly those tokens; our ``render_conversation`` gives that mask explicitly (the same
function as SFT, with the same golden tests), and the rollouts reuse the agent loop of the
traces and eval. Per step:

1. ``prompts_per_step`` tasks (curriculum order: stage 1 first), ``group_size`` rollouts each,
   sampled by the current policy through :class:`agents.loop.AgentLoop` (batched); with
   ``dynamic_sampling`` (DAPO, MaskSearch's RL) groups whose rewards are all equal are dropped
   and more tasks are sampled, up to ``max_sampling_rounds`` rounds;
2. rewards: a weighted list of :mod:`ramp.rewards` functions;
3. advantages: GRPO (normalised within each group) or REINFORCE++ (over the batch);
4. loss per trainable token: clipped policy ratio (``clip_eps``; DAPO's ``clip_eps_high``;
   the ratio moves from 1 only with ``ppo_epochs > 1``) x advantage + ``kl_coef`` x KL(k3)
   to the frozen reference model, averaged over all trainable tokens of the batch
   (token-level, as in DAPO).
"""

from __future__ import annotations

import copy
import functools
import json
import math
import os
import time
from dataclasses import dataclass, field
from typing import Any

from agents.llm import LLMConfig
from agents.loop import AgentEpisode, AgentLoop, LoopConfig
from agents.search.simulated import SimulatedConfig
from ramp.curriculum import by_num_masks
from ramp.rewards import REWARDS
from training import checkpoints
from training.eval import load_items
from training.render import render_conversation


@dataclass
class RLConfig:
    model: str = ""
    # a RAMP task dir (stage I: curriculum order, ``split``) or a QA file that ``ramp eval``
    # reads (stage II, MaskSearch's downstream RL: HotpotQA / MuSiQue JSON, FlashRAG JSONL)
    tasks: str = ""
    index: str = ""  # index dir, server URL, or "simulated" (ZeroSearch engine on the base model)
    output_dir: str = ""
    algorithm: str = "grpo"  # grpo | reinforce_pp
    steps: int = 10
    prompts_per_step: int = 2
    group_size: int = 4
    lr: float = 1.0e-5
    kl_coef: float = 0.02
    clip_eps: float = 0.2
    clip_eps_high: float | None = None  # DAPO's clip-higher (e.g. 0.28); None: clip_eps
    dynamic_sampling: bool = False  # DAPO: drop groups whose rewards are all equal, sample more
    max_sampling_rounds: int = 3  # dynamic sampling: rollout rounds per step at most
    ppo_epochs: int = 1
    max_length: int = 1024
    save_steps: int = 5  # checkpoint every N steps; a rerun resumes from the newest
    keep_checkpoints: int = 2
    rewards: dict[str, float] = field(default_factory=lambda: {"format": 0.2,
                                                                "answer_recall": 0.8})
    loop: LoopConfig = field(default_factory=lambda: LoopConfig(
        max_turns=3, topk=2, retries=0, max_tokens=64, temperature=1.0))
    simulated: SimulatedConfig = field(default_factory=SimulatedConfig)
    # the model-based reward (``rewards: {judge: w}``): an LLM verdict; hf with model ""
    # judges with the frozen reference model, otherwise any backend (e.g. a 72B on a server)
    judge: LLMConfig = field(default_factory=LLMConfig)
    judge_prompt_version: str = "v1"
    split: str = "train"
    prompt_version: str = "v1"
    limit: int | None = None  # first N tasks / questions
    seed: int = 0
    autocast_bf16: bool = True


def _token_logprobs(model, ids, start: int, torch):
    """Log-probabilities of tokens ``ids[start:]`` (logits only from position ``start - 1``:
    the prompt before the first trained token needs no vocabulary projection)."""
    if not 1 <= start < ids.shape[1]:
        raise ValueError(f"first trained token {start} outside 1..{ids.shape[1] - 1}")
    keep = ids.shape[1] - start + 1
    logits = model(input_ids=ids, logits_to_keep=keep).logits[:, :-1].float()
    if logits.shape[1] != ids.shape[1] - start:  # a model that ignores logits_to_keep
        raise RuntimeError(f"expected {ids.shape[1] - start} logits, got {logits.shape[1]}")
    return torch.log_softmax(logits, -1).gather(-1, ids[:, start:, None]).squeeze(-1)


def advantages(rewards: list[float], group_size: int, algorithm: str) -> list[float]:
    """GRPO: (r - group mean) / group std; REINFORCE++: the same over the whole batch."""
    def norm(xs: list[float]) -> list[float]:
        mean = sum(xs) / len(xs)
        std = math.sqrt(sum((x - mean) ** 2 for x in xs) / len(xs))
        return [(x - mean) / (std + 1e-4) for x in xs]

    if algorithm == "reinforce_pp":
        return norm(rewards)
    if algorithm != "grpo":
        raise ValueError("algorithm must be grpo or reinforce_pp")
    out: list[float] = []
    for i in range(0, len(rewards), group_size):
        out += norm(rewards[i : i + group_size])
    return out


def stage(items) -> int:
    """The step's curriculum stage: the hardest RAMP stage sampled (1-4), 0 for QA."""
    return max((by_num_masks({"num_masks": t.num_masks}) for t in items if t.num_masks),
               default=0)


def informative_groups(rewards: list[float], group_size: int) -> list[int]:
    """DAPO's dynamic-sampling filter: the groups whose rewards are not all equal (a group
    of equal rewards has zero advantage everywhere and teaches nothing)."""
    return [g for g in range(len(rewards) // group_size)
            if len(set(rewards[g * group_size : (g + 1) * group_size])) > 1]


@dataclass
class Rollouts:
    """The rollouts of one step: ``group_size`` episodes per task, rewards per episode."""
    tasks: list = field(default_factory=list)
    episodes: list = field(default_factory=list)
    rewards: list[float] = field(default_factory=list)
    parts: dict[str, list[float]] = field(default_factory=dict)
    kept: list[int] = field(default_factory=list)  # groups with signal (rewards not all equal)
    train_groups: list[int] = field(default_factory=list)  # groups the update uses

    def add(self, other: Rollouts) -> int:
        base = len(self.tasks)
        self.tasks += other.tasks
        self.episodes += other.episodes
        self.rewards += other.rewards
        for name, values in other.parts.items():
            self.parts.setdefault(name, []).extend(values)
        return base

    def select(self, groups: list[int], group_size: int) -> tuple[list, list[float]]:
        idx = [g * group_size + i for g in groups for i in range(group_size)]
        return [self.episodes[i] for i in idx], [self.rewards[i] for i in idx]


def collect_groups(rollout, draw, want: int, group_size: int, rounds: int) -> Rollouts:
    """One step's rollouts; ``kept`` lists the groups with signal in every mode.
    ``rounds == 0``: one round of ``want`` tasks, all trained on.
    ``rounds >= 1`` (DAPO dynamic sampling): sample ``want`` tasks, keep the groups whose
    rewards differ, draw more tasks for the missing groups, at most ``rounds`` rounds; if
    no group carries signal, the last round is trained on (only its KL term moves)."""
    out = Rollouts()
    last: list[int] = []
    for r in range(max(rounds, 1)):
        got = rollout(draw(want - len(out.kept)), r)
        base = out.add(got)
        last = [base + g for g in range(len(got.tasks))]
        out.kept += [base + g for g in informative_groups(got.rewards, group_size)]
        if rounds == 0:
            out.train_groups = last
            return out
        if len(out.kept) >= want:
            break
    out.train_groups = out.kept or last
    return out


def train(cfg: RLConfig, log=print) -> dict[str, Any]:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from agents.llm.hf import HFBackend
    from agents.models import resolve
    from agents.search import open_index

    if not (cfg.model and cfg.tasks and cfg.index and cfg.output_dir):
        raise ValueError("rl needs model=, tasks=, index= and output_dir=")
    if cfg.dynamic_sampling and cfg.algorithm != "grpo":
        raise ValueError("dynamic_sampling filters groups of equal rewards, which carry no "
                         "advantage only under grpo (reinforce_pp normalises over the batch)")
    if cfg.dynamic_sampling and not 1 <= cfg.max_sampling_rounds <= 10:
        raise ValueError("max_sampling_rounds must be 1..10")
    unknown = set(cfg.rewards) - set(REWARDS) - {"judge"}
    if unknown:
        raise ValueError(f"unknown rewards {sorted(unknown)}: {sorted(REWARDS)} or judge")
    torch.manual_seed(cfg.seed)
    os.makedirs(cfg.output_dir, exist_ok=True)
    path = resolve(cfg.model)
    tokenizer = AutoTokenizer.from_pretrained(path)
    resume = checkpoints.latest(cfg.output_dir)
    policy = AutoModelForCausalLM.from_pretrained(resume or path, dtype=torch.float32)
    reference = (AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32) if resume
                 else copy.deepcopy(policy)).eval()
    for p in reference.parameters():
        p.requires_grad_(False)
    backend = HFBackend(cfg.model, batch_size=8, autocast=cfg.autocast_bf16, hf_model=policy)
    # the frozen reference generates too (simulated search engine, default judge): one backend
    frozen = functools.cache(lambda: HFBackend(cfg.model, batch_size=8,
                                               autocast=cfg.autocast_bf16, hf_model=reference))
    if cfg.index == "simulated":
        from agents.search.simulated import SimulatedSearchEngine

        retriever = SimulatedSearchEngine(frozen(), cfg.simulated)
    else:
        retriever = open_index(cfg.index)
    # curriculum order: fewer masks first (QA questions have 0 masks: file order kept)
    tasks = sorted(load_items(cfg.tasks, cfg.prompt_version, cfg.limit, cfg.split),
                   key=lambda t: t.num_masks)
    if not tasks:
        raise ValueError(f"no {cfg.split} tasks or questions in {cfg.tasks}")
    named = dict(REWARDS)
    if "judge" in cfg.rewards:
        from agents.judge import judge_reward
        from agents.llm import make_llm

        judge_llm = (frozen() if cfg.judge.backend == "hf" and not cfg.judge.model
                     else make_llm(cfg.judge))
        named["judge"] = judge_reward(judge_llm, cfg.judge_prompt_version)
    reward_fns = [(named[name], w) for name, w in cfg.rewards.items()]
    optimizer = torch.optim.AdamW([p for p in policy.parameters() if p.requires_grad], lr=cfg.lr,
                                  weight_decay=0.0)
    metrics_path = os.path.join(cfg.output_dir, "metrics.jsonl")
    start_step, cursor = 0, 0  # cursor: next task in curriculum order
    if resume:
        state = checkpoints.load_state(resume, torch)
        optimizer.load_state_dict(state["optimizer"])
        start_step, cursor = state["step"], state["cursor"]
        log(f"resuming from {resume} at step {start_step}")
    checkpoints.keep_metrics_until(metrics_path, start_step)
    start = time.perf_counter()
    clip_high = cfg.clip_eps if cfg.clip_eps_high is None else cfg.clip_eps_high

    def draw(n: int) -> list:
        nonlocal cursor
        cursor += n
        return [tasks[(cursor - n + i) % len(tasks)] for i in range(n)]

    def rollout(chosen, r: int, step: int) -> Rollouts:  # round r of step
        seed = cfg.seed + 1000 * step + 100 * r
        episodes = [AgentEpisode(id=f"{t.id}#{g}", messages=[{"role": "user",
                                                             "content": t.prompt}],
                                 question=t.question, gold=t.hint)
                    for t in chosen for g in range(cfg.group_size)]
        AgentLoop(backend, retriever, cfg.loop).run(episodes, seed=seed)
        group_tasks = [t for t in chosen for _ in range(cfg.group_size)]
        completions = [e.messages[1:] for e in episodes]
        columns = {"answers": [list(t.golds) for t in group_tasks],
                   "num_masks": [t.num_masks for t in group_tasks]}
        prompts = [e.messages[0]["content"] for e in episodes]
        # each reward function once (the judge calls a model); the hybrid is their weighted sum
        parts = {name: fn(prompts, completions, **columns)
                 for name, (fn, _) in zip(cfg.rewards, reward_fns)}
        rewards = [sum(w * parts[name][i] for name, (_, w) in zip(cfg.rewards, reward_fns))
                   for i in range(len(episodes))]
        return Rollouts(list(chosen), episodes, rewards, parts)

    for step in range(start_step, cfg.steps):
        noise_p = None
        if cfg.index == "simulated":
            retriever.step = step
            noise_p = retriever.noise_p()
        policy.eval()
        rounds = cfg.max_sampling_rounds if cfg.dynamic_sampling else 0
        got = collect_groups(functools.partial(rollout, step=step), draw, cfg.prompts_per_step,
                             cfg.group_size, rounds)
        chosen, episodes, rewards, parts = got.tasks, got.episodes, got.rewards, got.parts
        train_eps, train_rewards = got.select(got.train_groups, cfg.group_size)
        adv = advantages(train_rewards, cfg.group_size, cfg.algorithm)
        batch = []
        for e, a in zip(train_eps, adv):
            ids, mask = render_conversation(tokenizer, e.messages, cfg.max_length)
            if sum(mask):
                first = mask.index(1)  # first trained token; logits before it are not needed
                batch.append((torch.tensor([ids]), first,
                              torch.tensor(mask[first:], dtype=torch.float32), a))
        n_tokens = sum(float(m.sum()) for _, _, m, _ in batch) or 1.0

        def logprobs(model, ids, first):  # the same precision for policy, old and reference
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=cfg.autocast_bf16):
                return _token_logprobs(model, ids, first, torch)[0]

        with torch.no_grad():
            ref = [logprobs(reference, ids, first) for ids, first, _, _ in batch]
            # with one epoch the sampling policy is the one being updated: its log-probs come
            # from the update's own forward pass (detached), not from a second pass
            old = ([logprobs(policy, ids, first) for ids, first, _, _ in batch]
                   if cfg.ppo_epochs > 1 else [None] * len(batch))
        policy.train()
        kl_sum, loss_sum = 0.0, 0.0
        for _ in range(cfg.ppo_epochs):
            optimizer.zero_grad(set_to_none=True)
            kl_sum, loss_sum = 0.0, 0.0
            for (ids, first, mask, a), lp_old, lp_ref in zip(batch, old, ref):
                lp = logprobs(policy, ids, first)
                ratio = torch.exp(lp - (lp.detach() if lp_old is None else lp_old))
                surrogate = torch.minimum(ratio * a, torch.clamp(
                    ratio, 1 - cfg.clip_eps, 1 + clip_high) * a)
                kl = torch.exp(lp_ref - lp) - (lp_ref - lp) - 1  # k3 estimator, >= 0
                loss = ((-surrogate + cfg.kl_coef * kl) * mask).sum() / n_tokens
                loss.backward()
                kl_sum += float((kl * mask).sum().detach())
                loss_sum += float(loss.detach())
            torch.nn.utils.clip_grad_norm_(policy.parameters(), 1.0)
            optimizer.step()
        row = {"step": step + 1, "stage": stage(chosen),
               "reward": round(sum(rewards) / len(rewards), 4),
               **{f"reward/{k}": round(sum(v) / len(v), 4) for k, v in parts.items()},
               "kl": round(kl_sum / n_tokens, 6), "loss": round(loss_sum, 6),
               "searches": round(sum(e.searches for e in episodes) / len(episodes), 3),
               "noise_p": noise_p, "trained_tokens": int(n_tokens),
               "groups": len(chosen), "groups_signal": len(got.kept),
               "groups_trained": len(got.train_groups),
               "seconds": round(time.perf_counter() - start, 1)}
        with open(metrics_path, "a", encoding="utf-8") as f:
            f.write(json.dumps(row) + "\n")
        log(f"step {row['step']}/{cfg.steps} reward {row['reward']:.3f} kl {row['kl']:.5f} "
            f"searches {row['searches']:.2f} groups with signal {len(got.kept)}/{len(chosen)}")
        if (step + 1) % cfg.save_steps == 0 and step + 1 < cfg.steps:
            checkpoints.save(cfg.output_dir, policy, {"optimizer": optimizer.state_dict(),
                                                      "cursor": cursor},
                             step + 1, cfg.keep_checkpoints, torch)
    final = checkpoints.save_final(policy, tokenizer, os.path.join(cfg.output_dir, "final"))
    summary = {"steps": cfg.steps, "resumed_from": start_step, "algorithm": cfg.algorithm,
               "dynamic_sampling": cfg.dynamic_sampling,
               "seconds": round(time.perf_counter() - start, 1), "final": final}
    with open(os.path.join(cfg.output_dir, "summary.json"), "w", encoding="utf-8") as f:
        json.dump(summary, f, indent=2)
    return summary
