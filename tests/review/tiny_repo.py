"""A git repository made in a temp folder, with two commits of a tiny strategy.

`tiny.toml` holds the 5 names with the best 6-month momentum, equal weight (1/5 each),
rebalanced quarterly, with no selection buffer and caps that never bind. The second
commit changes `selection.top_n` to 3 (1/3 each). Both see the same scores, so on every
rebalance B's 3 names are A's top 3: Jaccard = 3/5 = 0.6 and shared weight =
3 x min(1/5, 1/3) = 0.6; on the last rebalance A's other 2 names go from 20 % to 0 and
B's 3 names from 20 % to 33.33 %.

`strategies/base.toml` and `strategies/child.toml` (which extends it) are there for
`qtc diff --git`.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

TINY = """\
schema = 1
name = "tiny"
description = "Five names by 6-month momentum, equal weight, quarterly"

[data]
start = 2009-01-02
end = 2010-12-30
benchmark = "SPY"

[universe]
kind = "all"

[[factors]]
name = "mom"
kind = "momentum"
lookback = 126
skip = 21

[selection]
top_n = 5
buffer = 0

[sizing]
kind = "equal"
max_weight = 0.5

[rebalance]
frequency = "quarterly"

[risk]
max_position_pct = 0.5
"""

CHILD = """\
schema = 1
name = "child"
description = "The base with three names"
extends = "base.toml"

[selection]
top_n = 3
"""

ENV = {
    "GIT_AUTHOR_NAME": "qtc test",
    "GIT_AUTHOR_EMAIL": "test@example.invalid",
    "GIT_COMMITTER_NAME": "qtc test",
    "GIT_COMMITTER_EMAIL": "test@example.invalid",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_DATE": "2024-01-02T00:00:00+00:00",
    "GIT_COMMITTER_DATE": "2024-01-02T00:00:00+00:00",
}
"""A fixed identity and date: the same commits (and hashes) on every run."""


def git(repo: Path, *args: str) -> str:
    """Run git in `repo` (a fixed identity, no system config); return stdout."""
    env = {**os.environ, **ENV, "HOME": str(repo)}
    done = subprocess.run(
        ["git", *args], cwd=repo, capture_output=True, text=True, check=True, env=env
    )
    return done.stdout.strip()


def make_repo(repo: Path) -> Path:
    """The repository: commit 1 with top_n = 5, commit 2 with top_n = 3."""
    (repo / "strategies").mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    (repo / "tiny.toml").write_text(TINY)
    base = TINY.replace('name = "tiny"', 'name = "base"')
    (repo / "strategies" / "base.toml").write_text(base)
    (repo / "strategies" / "child.toml").write_text(CHILD)
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "tiny: top 5")
    (repo / "tiny.toml").write_text(TINY.replace("top_n = 5", "top_n = 3"))
    git(repo, "commit", "-qam", "tiny: top 3")
    return repo
