"""transformers ``generate`` backend: chat template, left-padded batches, CPU or GPU."""

from __future__ import annotations

from collections.abc import Sequence

from ramp.llm import Conversation, LLMError, Sampling, cut_at_stop


class HFBackend:
    def __init__(self, model: str, dtype: str = "bfloat16", batch_size: int = 8,
                 device: str | None = None, autocast: bool = False, hf_model=None):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        from agents.models import resolve

        path = resolve(model)
        self.name = model
        self.torch = torch
        self.batch_size = batch_size
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.tokenizer = AutoTokenizer.from_pretrained(path)
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        # ``hf_model``: generate with a model being trained (RL); ``autocast``: bf16 compute
        # over float32 weights, ~1.5x faster generation on CPU.
        self.autocast = autocast
        self.model = hf_model if hf_model is not None else AutoModelForCausalLM.from_pretrained(
            path, dtype=getattr(torch, dtype)).to(self.device).eval()
        self._stops: dict[tuple[str, ...], object] = {}

    def stopping(self, stop: Sequence[str]):
        """One ``StopStringCriteria`` per stop list, built once: transformers' own cache misses
        (its key is the vocabulary in dict order), so ``stop_strings=`` costs ~1 s per call."""
        from transformers import StoppingCriteriaList, StopStringCriteria

        key = tuple(stop)
        if key not in self._stops:
            self._stops[key] = StoppingCriteriaList([StopStringCriteria(self.tokenizer, list(key))])
        return self._stops[key]

    def prompt(self, conversation: Conversation) -> str:
        return self.tokenizer.apply_chat_template(conversation, tokenize=False,
                                                  add_generation_prompt=True)

    def generate_prompts(self, prompts: Sequence[str], sampling: Sampling) -> list[str]:
        """Raw completions of already rendered prompts (also used by the RL rollouts)."""
        torch = self.torch
        out: list[str] = []
        for start in range(0, len(prompts), self.batch_size):
            chunk = list(prompts[start : start + self.batch_size])
            enc = self.tokenizer(chunk, return_tensors="pt", padding=True,
                                 add_special_tokens=False).to(self.device)
            kwargs = {"max_new_tokens": sampling.max_tokens,
                      "pad_token_id": self.tokenizer.pad_token_id}
            if sampling.temperature > 0:
                torch.manual_seed(sampling.seed + start)
                kwargs.update(do_sample=True, temperature=sampling.temperature,
                              top_p=sampling.top_p)
            else:
                kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
            if sampling.stop:
                kwargs.update(stopping_criteria=self.stopping(sampling.stop))
            with torch.inference_mode(), torch.autocast(self.device, dtype=torch.bfloat16,
                                                         enabled=self.autocast):
                ids = self.model.generate(**enc, **kwargs)
            new = ids[:, enc["input_ids"].shape[1]:]
            texts = self.tokenizer.batch_decode(new, skip_special_tokens=True)
            out.extend(cut_at_stop(t, sampling.stop) for t in texts)
        return out

    def generate(self, conversations: Sequence[Conversation],
                 sampling: Sampling) -> list[str | LLMError]:
        prompts = [self.prompt(c) for c in conversations]
        try:
            texts = self.generate_prompts(prompts, sampling)
        except RuntimeError as exc:  # e.g. out of memory: every item of this call fails
            return [LLMError(f"hf generate failed: {exc}") for _ in prompts]
        return [t if t.strip() else LLMError("empty completion") for t in texts]
