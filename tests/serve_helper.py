"""`autojudge serve` with one more judge kind, for tests/test_serve.py: `gate:PATH` judges as
`abstention` does, but holds every batch until the file PATH exists (serve's warm-up passes), so
a test can keep items in the judge for as long as it needs.

    python -m tests.serve_helper serve --judge gate:/tmp/open ...
"""

import sys
import time
from pathlib import Path

from autojudge.judges.abstention import AbstentionJudge


class GateJudge:
    name = "gate"

    def __init__(self, path: str) -> None:
        self.path, self.inner, self.calls = Path(path), AbstentionJudge(), 0

    def judge(self, items):
        self.calls += 1
        while self.calls > 1 and not self.path.exists():
            time.sleep(0.01)
        return self.inner.judge(items)


if __name__ == "__main__":
    from autojudge.cli import main
    from autojudge.judges.base import JUDGES

    JUDGES.add("gate", lambda path, _: GateJudge(path))
    raise SystemExit(main(sys.argv[1:]))
