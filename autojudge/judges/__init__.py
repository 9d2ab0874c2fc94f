"""Supervised judges: comparison, fact-overlap, abstention, ensemble, LLM (issue #3)."""
