"""Per-span causal-LM loss for the ``ppl`` masking strategy (torch; loaded in DoFn.setup)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from pipelines.config import PplConfig
from ramp.ppl import span_losses
from ramp.records import Span


class SpanScorer:
    """One forward pass per passage; each span's loss is its tokens' mean NLL."""

    def __init__(self, cfg: PplConfig):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        from agents.models import resolve

        path = resolve(cfg.model)
        self.cfg = cfg
        self.torch = torch
        self.tokenizer = AutoTokenizer.from_pretrained(path)
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.tokenizer.padding_side = "right"
        self.model = AutoModelForCausalLM.from_pretrained(path, dtype=getattr(torch, cfg.dtype)).eval()

    def token_losses(self, texts: Sequence[str]) -> list[tuple[list, list[float]]]:
        torch = self.torch
        enc = self.tokenizer(
            list(texts),
            return_offsets_mapping=True,
            padding=True,
            truncation=True,
            max_length=self.cfg.max_tokens,
            return_tensors="pt",
        )
        offsets = enc.pop("offset_mapping")
        with torch.inference_mode():
            logits = self.model(**enc).logits.float()
        nll = torch.nn.functional.cross_entropy(
            logits[:, :-1].transpose(1, 2), enc["input_ids"][:, 1:], reduction="none"
        )
        out = []
        for row in range(len(texts)):
            n = int(enc["attention_mask"][row].sum())
            losses = [math.nan] + nll[row, : n - 1].tolist()
            out.append(([tuple(o) for o in offsets[row, :n].tolist()], losses))
        return out

    def span_losses(self, items: Sequence[tuple[str, Sequence[Span]]]) -> list[list[float]]:
        scored = self.token_losses([text for text, _ in items])
        return [
            [round(x, self.cfg.decimals) for x in span_losses(offs, losses, spans)]
            for (offs, losses), (_, spans) in zip(scored, items)
        ]
