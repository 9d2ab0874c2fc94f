"""Data sources (bigbench, HaluEval) and the builder of judge pairs, QA sets and NLI pairs."""
