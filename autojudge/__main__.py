"""`python -m autojudge` is the same as the `autojudge` command."""

from autojudge.cli import main

raise SystemExit(main())
