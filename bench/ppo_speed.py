"""Generated tokens per second of a full RL iteration (rollout + update): our PPO vs TRL's
GRPOTrainer, same policy, judge + reward, batch, answer length and precision, in one run.

    .venv/bin/python bench/ppo_speed.py [--steps 3] [--batch 8] [--max-new-tokens 32]
                                        [--judge default|PATH] [--rounds 3]
                                        [--precision fp32 bf16]

Every answer is exactly `--max-new-tokens` long in both trainers (generation.min_new_tokens
and TRL's generation_kwargs), so tokens/s compares the same work rather than answer lengths
that sampling happened to draw. Each precision is compared separately: fp32 runs both trainers
without mixed precision (ours: ppo.mixed_precision=fp32; TRL: bf16=False), bf16 runs both under
accelerate's bf16 autocast with fp32 weights (ours: ppo.mixed_precision=bf16, sampling from its
bf16 copy of the policy; TRL: bf16=True). Each round runs every (trainer, precision) for
`--steps` measured steps after one warm-up step, alternating which trainer goes first; per
trainer, tokens/s = generated tokens / wall time of the measured steps. Both keep a frozen
reference for the KL term (ours: ppo.kl_coef; TRL: beta) and take one optimizer step per
rollout (ours: ppo.epochs=1, minibatch = batch). The rival is TRL as a user who knows it would
run a policy that fits in memory: gradient checkpointing off ("TRL GRPO"; the ratio and the
target are against it); TRL's default, checkpointing on, is shown beside it ("TRL GRPO (default)").
Ours runs without checkpointing (ppo.gradient_checkpointing=false, its default) and, as in
every run, passes each group's shared prompt through the model once (shared_prompt.py); TRL
runs it once per answer. The median over
rounds is reported with the range. Writes bench/results/ppo_speed.json."""

from __future__ import annotations

import argparse
import functools
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _common import write_result  # noqa: E402

from autojudge.config import load_config  # noqa: E402
from autojudge.data.build import build, split_path  # noqa: E402
from autojudge.io import read_records  # noqa: E402
from autojudge.jobs.judge import resolve_judge  # noqa: E402
from autojudge.policy import load_policy  # noqa: E402
from autojudge.rewards.adapters import trl_reward  # noqa: E402
from autojudge.rewards.schemes import Reward  # noqa: E402


def check_precision(trainer: str, bf16: bool) -> None:
    """The trainer really ran at the precision asked for (accelerate's state of this process)."""
    from accelerate.state import AcceleratorState

    used, wanted = AcceleratorState().mixed_precision, "bf16" if bf16 else "no"
    if used != wanted:
        raise SystemExit(f"{trainer} ran with mixed_precision={used!r}, not {wanted!r}")


def ours(config, judge, questions, steps: int, bf16: bool) -> tuple[float, int, float]:
    """(tokens/s, tokens, seconds) over steps 2..steps+1 of our PPO (step 1 warms up)."""
    import dataclasses
    import json

    from autojudge.trainers.ppo import train_ppo

    config = dataclasses.replace(config, ppo=dataclasses.replace(
        config.ppo, mixed_precision="bf16" if bf16 else "fp32"))
    with tempfile.TemporaryDirectory() as out:
        train_ppo(config, load_policy(config.models.policy), judge, Reward(config.reward),
                  questions, out)
        rows = [json.loads(line) for line in Path(out, "log.jsonl").read_text().splitlines()]
    check_precision("autojudge PPO", bf16)
    measured = rows[1:]
    tokens = sum(r["rollout/length"] * config.ppo.batch_size for r in measured)
    seconds = sum(r["time/step_s"] for r in measured)
    return tokens / seconds, int(tokens), seconds


def trl(config, judge, questions, steps: int, bf16: bool,
        checkpointing: bool = False) -> tuple[float, int, float]:
    """The same for TRL's GRPOTrainer (groups of 2 completions per prompt, same total batch),
    with gradient checkpointing off unless `checkpointing` (TRL's default turns it on)."""
    from datasets import Dataset
    from transformers import TrainerCallback
    from trl import GRPOConfig, GRPOTrainer

    policy = load_policy(config.models.policy)
    batch = config.ppo.batch_size
    system = config.generation.system_prompt
    data = Dataset.from_dict({
        "prompt": [[{"role": "system", "content": system}, {"role": "user", "content": q.question}]
                   for q in questions[: batch * (steps + 1)]],
        "reference": [list(q.reference) for q in questions[: batch * (steps + 1)]]})
    marks: list[float] = []

    class Clock(TrainerCallback):
        def on_step_begin(self, args, state, control, **kwargs):
            marks.append(time.perf_counter())

        def on_step_end(self, args, state, control, **kwargs):
            marks.append(time.perf_counter())

    with tempfile.TemporaryDirectory() as out:
        args = GRPOConfig(
            output_dir=out, per_device_train_batch_size=batch, num_generations=2,
            max_completion_length=config.generation.max_new_tokens,
            generation_kwargs={"min_new_tokens": config.generation.min_new_tokens},
            temperature=config.generation.temperature, learning_rate=config.ppo.lr,
            beta=config.ppo.kl_coef, max_steps=steps + 1, logging_steps=1, report_to=[],
            use_cpu=True, bf16=bf16, save_strategy="no", seed=0, shuffle_dataset=False,
            gradient_checkpointing=checkpointing)
        trainer = GRPOTrainer(model=policy.model, reward_funcs=[trl_reward(judge, config.reward)],
                              args=args, train_dataset=data, processing_class=policy.tokenizer,
                              callbacks=[Clock()])
        trainer.train()
    check_precision("TRL GRPO", bf16)
    lengths = [h["completions/mean_length"] for h in trainer.state.log_history
               if "completions/mean_length" in h]
    durations = [marks[i + 1] - marks[i] for i in range(0, len(marks) - 1, 2)]
    tokens = sum(lengths[1:]) * batch
    seconds = sum(durations[1:])
    return tokens / seconds, int(tokens), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--max-new-tokens", type=int, default=32)
    parser.add_argument("--judge", default="default")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--precision", nargs="+", choices=("fp32", "bf16"),
                        default=["fp32", "bf16"])
    args = parser.parse_args()

    config = load_config(None, [f"ppo.batch_size={args.batch}", f"ppo.minibatch_size={args.batch}",
                                "ppo.group_size=2",  # 2 answers per prompt, as TRL's groups
                                "ppo.epochs=1", f"ppo.steps={args.steps + 1}", "ppo.save_every=0",
                                f"generation.max_new_tokens={args.max_new_tokens}",
                                f"generation.min_new_tokens={args.max_new_tokens}"])
    build(config.data)
    judge = resolve_judge(config, args.judge)
    questions, _ = read_records(split_path(config.data, "qa", "train"),
                                require=("question", "reference"))
    runners = {"autojudge PPO": ours, "TRL GRPO": trl,
               "TRL GRPO (default)": functools.partial(trl, checkpointing=True)}
    results = {p: {name: [] for name in runners} for p in args.precision}
    for r in range(args.rounds):
        for precision in args.precision:
            for name in (list(runners) if r % 2 == 0 else list(reversed(runners))):  # order swaps
                results[precision][name].append(runners[name](
                    config, judge, questions, args.steps, bf16=precision == "bf16"))
                print(f"round {r + 1} {precision} {name}: "
                      f"{results[precision][name][-1][0]:.1f} tokens/s")
    med = {p: {name: statistics.median(x[0] for x in runs) for name, runs in by.items()}
           for p, by in results.items()}
    spread = {p: {name: [min(x[0] for x in runs), max(x[0] for x in runs)]
                  for name, runs in by.items()} for p, by in results.items()}
    ratio = {p: m["autojudge PPO"] / m["TRL GRPO"] for p, m in med.items()}
    ratio_default = {p: m["autojudge PPO"] / m["TRL GRPO (default)"] for p, m in med.items()}
    print(f"\n{'precision':<11}{'trainer':<20}{'tokens/s (median)':>18}{'range':>16}"
          f"{'tokens':>8}{'seconds':>9}")
    for p, by in results.items():
        for name, runs in by.items():
            low, high = spread[p][name]
            print(f"{p:<11}{name:<20}{med[p][name]:>18.1f}{f'{low:.1f}–{high:.1f}':>16}"
                  f"{sum(x[1] for x in runs):>8}{sum(x[2] for x in runs):>9.1f}")
    for p in ratio:
        print(f"{p}: ours / TRL (checkpointing off) = {ratio[p]:.2f}× (target ≥ 1.2×); "
              f"ours / TRL default = {ratio_default[p]:.2f}×")
    figures = {"settings": {"batch": args.batch, "max_new_tokens": args.max_new_tokens,
                            "steps": args.steps, "rounds": args.rounds,
                            "policy": config.models.policy, "precision": args.precision},
               "tokens_per_s": med, "range": spread, "ratio": ratio,
               "ratio_vs_trl_default": ratio_default,
               "runs": {p: {k: [list(x) for x in v] for k, v in by.items()}
                        for p, by in results.items()}}
    print(f"wrote {write_result('ppo_speed', figures)}")


if __name__ == "__main__":
    main()
