"""`autojudge score`, `autojudge judge train` and `autojudge judge eval`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from autojudge.cli.options import config_args, config_of, judge_args, tracking_args, whole_number
from autojudge.data.build import build
from autojudge.io import parse_mapping
from autojudge.jobs.judge import resolve_judge
from autojudge.judges.evaluation import evaluate, format_table, plot_reliability
from autojudge.judges.export import check_target, export_judge
from autojudge.scoring import check_paths, score_file
from autojudge.trainers.judges import train_judge


def add_score(sub: argparse._SubParsersAction) -> None:
    score = sub.add_parser(
        "score", help="Judge a file of (question, reference, answer) records.",
        description="Judge every row of a JSONL / CSV / Parquet file or saved dataset. Writes one "
                    "strict JSON line per input line (a blank or unreadable one, or one the "
                    "judge failed on, gets its error and no verdict), in order, with the "
                    "input's fields plus verdict, p_correct, p_incorrect, p_abstain, facts, "
                    "judge, error and flags (rules for degenerate answers that applied: "
                    "repetition, truncated, claims_capped); an input field with one of those "
                    "names is kept as input_<name>. Values JSON cannot hold are written as: NaN and "
                    "infinity null, bytes base64 text, dates and times ISO 8601 text, durations "
                    "seconds, decimals text. OUTPUT.meta.json records the judge, chunk size and "
                    "input, which --resume must match. Exits 1 when no row was judged.")
    score.add_argument("--input", required=True, type=Path, help="records to judge")
    score.add_argument("--output", required=True, type=Path,
                       help="JSONL to write (never the input)")
    config_args(score, "data.seed=7 (which default judge)")
    judge_args(score)
    score.add_argument("--map", action="append", default=[], metavar="FIELD=COLUMN",
                       help="read a field from a differently named column, e.g. answer=completion")
    score.add_argument("--split", help="split of a saved DatasetDict")
    score.add_argument("--resume", action="store_true",
                       help="continue an interrupted run (same input, judge and options)")
    score.add_argument("--chunk-size", type=whole_number(1), default=256,
                       help="rows judged per batch (at least 1)")
    score.set_defaults(run=_score)


def _score(args: argparse.Namespace) -> int:
    mapping = parse_mapping(args.map)
    check_paths(args.input, args.output, args.resume)  # before loading the judge (it may be slow)
    judge = resolve_judge(config_of(args), args.judge, args.base_url)
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
    config_args(train)
    train.add_argument("--out", type=Path, help="folder to write (default: the default judge's)")
    tracking_args(train)
    train.set_defaults(run=_judge_train)


def _judge_train(args: argparse.Namespace) -> int:
    config = config_of(args)
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
    config_args(evaluate)
    judge_args(evaluate)
    evaluate.add_argument("--split", default="test", choices=("val", "test"))
    evaluate.add_argument("--pairs", type=int, default=0, help="sample this many (0: all)")
    evaluate.add_argument("--no-baselines", action="store_true", help="skip the baselines")
    evaluate.add_argument("--out", type=Path, default=Path("runs/judge-eval"),
                          help="folder for judge_eval.json and reliability.png")
    evaluate.set_defaults(run=_judge_eval)


def _judge_eval(args: argparse.Namespace) -> int:
    config = config_of(args)
    judge = resolve_judge(config, args.judge, args.base_url)
    build(config.data)
    results = evaluate(judge, config, split=args.split, pairs=args.pairs,
                       baselines=not args.no_baselines)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "judge_eval.json").write_text(json.dumps(results, indent=2) + "\n")
    plot = plot_reliability(results, args.out / "reliability.png")
    print(format_table(results))
    print(f"\nwrote {args.out / 'judge_eval.json'} and {plot}")
    return 0


def add_judge_export(sub: argparse._SubParsersAction) -> None:
    export = sub.add_parser(
        "export", help="Write a judge with its cross-encoders as ONNX.",
        description="Write the ensemble judge (the default one, or --judge FOLDER) to DIR: "
                    "judge.json with the combiner and settings, and comparison/ and facts/ each "
                    "holding the cross-encoder as float32 ONNX (model.onnx), the int8 model the "
                    "judge runs on a CPU (model_int8.xml and .bin, OpenVINO IR), its tokenizer "
                    "and config. `--judge DIR` (or load_judge(DIR)) loads it back without torch "
                    "weights.")
    export.add_argument("dir", type=Path, help="new or empty folder to write")
    config_args(export)
    export.add_argument("--judge", default="default",
                        help="default (the judge trained for --config) or a saved judge folder")
    export.set_defaults(run=_judge_export)


def _judge_export(args: argparse.Namespace) -> int:
    check_target(args.dir)  # before loading the judge
    judge = resolve_judge(config_of(args), args.judge, train_missing=False)
    folder = export_judge(judge, args.dir)
    print(f"wrote {folder}: judge.json, comparison/ and facts/ (model.onnx, model_int8.xml)")
    return 0
