"""Data sources (geography, HaluEval) and the builder of judge pairs, QA sets and NLI pairs."""
