"""The one judge resolver: a config plus a `--judge` spec to a judge. The config's encoder and
data settings decide which saved default judge; training a missing one is announced here."""

from __future__ import annotations

from typing import Any

from autojudge.config import Config
from autojudge.data.build import split_path
from autojudge.io import read_records
from autojudge.judges.base import Judge
from autojudge.judges.loader import load_default, load_judge
from autojudge.judges.strict import StrictChecker, relation_values
from autojudge.trainers.judges import ensure_judge


def resolve_judge(config: Config, spec: str = "default", base_url: str | None = None, *,
                  train_missing: bool = True) -> Judge:
    """The judge `spec` names; `default` is the one trained for `config` (trained first, with
    an announcement, when missing and `train_missing`)."""
    if spec != "default":
        return load_judge(spec, base_url=base_url, config=config)
    if train_missing:
        ensure_judge(config)
    return load_default(config)


def independent_graders(config: Config, records: Any = (), spec: str | None = None,
                        base_url: str | None = None) -> dict[str, Judge]:
    """Graders the policy is not trained against: the strict reference checker, its value index
    read from `records` and every QA split already built, and, with `spec`, any judge
    `resolve_judge` knows."""
    qa = list(records)
    for split in ("train", "val", "test"):
        if split_path(config.data, "qa", split).is_file():
            qa += read_records(split_path(config.data, "qa", split),
                               require=("question", "reference"))[0]
    graders: dict[str, Judge] = {"strict": StrictChecker(relation_values(qa))}
    if spec:
        graders[spec] = resolve_judge(config, spec, base_url)
    return graders
