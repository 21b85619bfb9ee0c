"""Search backends, LLM backends and the agent roles that produce search traces."""
