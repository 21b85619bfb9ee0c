"""transformers ``generate`` backend: chat template, left-padded batches, on the device the
engine gives (accelerate's: CUDA, MPS or CPU; a model being trained stays where it is)."""

from __future__ import annotations

from collections.abc import Sequence

from ramp.llm import Conversation, LLMError, Sampling, TokenOutput, cut_at_stop


class HFBackend:
    def __init__(
        self,
        model: str,
        dtype: str = "bfloat16",
        batch_size: int = 8,
        device=None,
        autocast: bool = False,
        hf_model=None,
        tokenizer=None,
    ):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        from agents.models import resolve

        path = resolve(model)
        self.name = model
        self.torch = torch
        self.batch_size = batch_size
        if device is None:
            if hf_model is not None:
                device = next(hf_model.parameters()).device
            else:
                from accelerate import PartialState

                device = PartialState().device
        self.device = torch.device(device)
        self.tokenizer = tokenizer if tokenizer is not None else AutoTokenizer.from_pretrained(path)
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        # ``hf_model``: generate with a model being trained (RL); ``autocast``: bf16 compute
        # over float32 weights, ~1.5x faster generation on CPU.
        self.autocast = autocast
        self.model = (
            hf_model
            if hf_model is not None
            else AutoModelForCausalLM.from_pretrained(path, dtype=getattr(torch, dtype))
            .to(self.device)
            .eval()
        )
        self._stops: dict[tuple[str, ...], object] = {}

    def stopping(self, stop: Sequence[str]):
        """One ``StopStringCriteria`` per stop list, built once: transformers' own cache misses
        (its key is the vocabulary in dict order), so ``stop_strings=`` costs ~1 s per call."""
        from transformers import StoppingCriteriaList, StopStringCriteria

        key = tuple(stop)
        if key not in self._stops:
            self._stops[key] = StoppingCriteriaList([StopStringCriteria(self.tokenizer, list(key))])
        return self._stops[key]

    def autocast_context(self):
        return self.torch.autocast(self.device.type, dtype=self.torch.bfloat16, enabled=self.autocast)

    def _sampling_kwargs(self, sampling: Sampling, seed: int) -> dict:
        # use_cache: a trainer may have turned the KV cache off in the model's config
        kwargs = {
            "max_new_tokens": sampling.max_tokens,
            "pad_token_id": self.tokenizer.pad_token_id,
            "use_cache": True,
        }
        if sampling.temperature > 0:
            self.torch.manual_seed(seed)
            kwargs.update(do_sample=True, temperature=sampling.temperature, top_p=sampling.top_p)
        else:
            kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        if sampling.stop:
            kwargs.update(stopping_criteria=self.stopping(sampling.stop))
        return kwargs

    def prompt(self, conversation: Conversation) -> str:
        from agents.chat import render

        return render(self.tokenizer, conversation, generation_prompt=True)

    def generate_prompts(self, prompts: Sequence[str], sampling: Sampling) -> list[str]:
        """Raw completions of already rendered prompts (also used by the RL rollouts)."""
        torch = self.torch
        out: list[str] = []
        for start in range(0, len(prompts), self.batch_size):
            chunk = list(prompts[start : start + self.batch_size])
            enc = self.tokenizer(chunk, return_tensors="pt", padding=True, add_special_tokens=False).to(
                self.device
            )
            kwargs = self._sampling_kwargs(sampling, sampling.seed + start)
            with torch.inference_mode(), self.autocast_context():
                ids = self.model.generate(**enc, **kwargs)
            new = ids[:, enc["input_ids"].shape[1] :]
            texts = self.tokenizer.batch_decode(new, skip_special_tokens=True)
            out.extend(cut_at_stop(t, sampling.stop) for t in texts)
        return out

    def generate(self, conversations: Sequence[Conversation], sampling: Sampling) -> list[str | LLMError]:
        prompts = [self.prompt(c) for c in conversations]
        try:
            texts = self.generate_prompts(prompts, sampling)
        except RuntimeError as exc:  # e.g. out of memory: every item of this call fails
            return [LLMError(f"hf generate failed: {exc}") for _ in prompts]
        return [t if t.strip() else LLMError("empty completion") for t in texts]

    def _sampled_length(self, new: list[int], stop: Sequence[str], eos: set[int]) -> int:
        """How many of ``new`` were sampled: up to the token that completes a stop string or
        an end-of-sequence token (both kept); what follows is padding of a finished row. Only
        a token holding a stop string's last character can complete it: only there is the
        prefix decoded."""
        ends = {s[-1] for s in stop if s}
        for n in range(1, len(new) + 1):
            if new[n - 1] in eos:
                return n
            if ends & set(self.tokenizer.decode([new[n - 1]])) and any(
                s in self.tokenizer.decode(new[:n], skip_special_tokens=True) for s in stop
            ):
                return n
        return len(new)

    def generate_tokens(
        self, prompts: Sequence[list[int]], sampling: Sampling
    ) -> list[TokenOutput | LLMError]:
        """Continue token ids, token in, token out: the sampled ids and their log-probs under
        the sampling distribution (logits / temperature), never a re-tokenised text."""
        torch = self.torch
        eos = self.model.generation_config.eos_token_id
        eos = set(eos if isinstance(eos, list) else [eos] if eos is not None else [])
        eos.add(self.tokenizer.eos_token_id)
        pad = self.tokenizer.pad_token_id
        out: list[TokenOutput | LLMError] = []
        for start in range(0, len(prompts), self.batch_size):
            chunk = [list(p) for p in prompts[start : start + self.batch_size]]
            width = max(len(p) for p in chunk)
            ids = torch.tensor([[pad] * (width - len(p)) + p for p in chunk], device=self.device)
            attn = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in chunk], device=self.device)
            kwargs = self._sampling_kwargs(sampling, sampling.seed + start)
            try:
                with torch.inference_mode(), self.autocast_context():
                    gen = self.model.generate(
                        input_ids=ids,
                        attention_mask=attn,
                        output_logits=True,
                        return_dict_in_generate=True,
                        **kwargs,
                    )
            except RuntimeError as exc:  # e.g. out of memory: every item of this chunk fails
                out.extend(LLMError(f"hf generate failed: {exc}") for _ in chunk)
                continue
            new = gen.sequences[:, width:]
            logits = torch.stack(gen.logits, dim=1).float()
            if sampling.temperature > 0:
                logits = logits / sampling.temperature
            logps = torch.log_softmax(logits, -1).gather(-1, new[:, :, None]).squeeze(-1)
            for row in range(len(chunk)):
                sampled = new[row].tolist()
                n = self._sampled_length(sampled, sampling.stop, eos)
                text = self.tokenizer.decode(sampled[:n], skip_special_tokens=True)
                out.append(
                    TokenOutput(sampled[:n], logps[row, :n].tolist(), text)
                    if n
                    else LLMError("empty completion")
                )
        return out
