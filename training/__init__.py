"""Training: trace rendering with explicit loss masks, curriculum SFT, evaluation."""
