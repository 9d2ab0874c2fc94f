"""The public API is typed: mypy --strict passes on the public modules and on code that uses the
API as the README shows it, and it catches code that misuses it."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).parents[1]
PUBLIC = ["autojudge/__init__.py", "autojudge/types.py", "autojudge/io.py",
          "autojudge/registry.py", "autojudge/config.py", "autojudge/judges/base.py",
          "autojudge/judges/loader.py", "autojudge/judges/abstention.py",
          "autojudge/judges/strict.py", "autojudge/judges/llm.py", "autojudge/client.py",
          "autojudge/rewards/schemes.py", "autojudge/rewards/adapters.py",
          "autojudge/jobs/judge.py"]
"""What users import: the package, its data types, judges, loading, rewards, the served judge's
client. (The models behind the default judge are reached through the Judge protocol.)"""

USAGE = """
import autojudge
from autojudge import Judgement, Record

judge: autojudge.Judge = autojudge.load_judge("abstention")
items: list[autojudge.Item] = [
    Record("q", ("r",), "a"), ("q", "r", "a"), ("q", ["r", "s"], "a"),
    {"question": "q", "reference": ["r"], "answer": "a"}]
out: list[Judgement] = judge.judge(items, batch_size=8, show_progress=True)
rewards: list[float | None] = autojudge.reward(["q"], ["r"], ["a"], judge=judge)
"""
MISUSE = {
    "answers_are_text": 'autojudge.reward(["q"], ["r"], [3])',
    "batch_size_is_a_number": 'judge.judge([("q", "r", "a")], batch_size="8")',
    "a_reward_may_be_none": 'total: list[float] = autojudge.reward(["q"], ["r"], ["a"])',
    "an_item_is_a_triple": 'judge.judge([("q", "r")])',
}


def mypy(*paths: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent",
         # our code only: every library is Any, so that the result is the same whichever
         # versions of them (and of their type hints) are installed
         "--no-site-packages", "--ignore-missing-imports",
         "--disable-error-code=import-untyped",
         "--cache-dir", str(ROOT / ".pytest_cache" / "mypy"),
         *map(str, paths)], cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_public_modules_and_their_documented_use_type_check(tmp_path):
    usage = tmp_path / "usage.py"
    usage.write_text(textwrap.dedent(USAGE))
    result = mypy(*PUBLIC, usage)
    assert result.returncode == 0, result.stdout + result.stderr


def test_misuse_is_caught(tmp_path):
    for name, line in MISUSE.items():
        (tmp_path / f"{name}.py").write_text(
            f"import autojudge\njudge = autojudge.load_judge('abstention')\n{line}\n")
    result = mypy(*sorted(tmp_path.glob("*.py")))
    flagged = {Path(line.split(":")[0]).stem for line in result.stdout.splitlines()
               if ": error:" in line}
    assert flagged == set(MISUSE), result.stdout
