"""Search backends behind one batch-first protocol (:class:`ramp.search.Retriever`)."""

from agents.search.index import build_index, open_index

__all__ = ["build_index", "open_index"]
