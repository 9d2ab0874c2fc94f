"""Shaped rewards, abstention-reward calibration and RL-framework adapters."""
