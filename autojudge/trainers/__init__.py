"""Judge training, "I don't know" warm-start SFT and PPO (issue #5)."""
