"""Progress of a run: a tiny callback protocol the runner calls (nothing is rendered here).

The runner calls `progress(stage, 0, 0)` when a stage starts; long loops inside a stage
call `progress(stage, done, total)` after each step (`compute_factors` per factor, optimizer
sizing per rebalance). The CLI renders it (`qtc.cli.console.stage_progress`); the pipeline
never prints.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

Tick = Callable[[int, int], None]
"""`(done, total)` after each step of a loop inside one stage."""


class Progress(Protocol):
    """Receives the stage being run and, inside long loops, how far it is."""

    def __call__(self, stage: str, done: int, total: int) -> None:
        """Report progress.

        Args:
            stage: The plan stage name (`load_data`, `size`, ...).
            done: Steps finished in the stage's loop (0 when the stage starts).
            total: Steps of the loop, or 0 when the stage has no counted loop (yet).
        """


def no_progress(stage: str, done: int, total: int) -> None:
    """A Progress that ignores every report."""


def ticker(progress: Progress, stage: str) -> Tick:
    """The `(done, total)` callback of one stage's loop.

    Args:
        progress: Where reports go.
        stage: The stage the loop belongs to.

    Returns:
        A callable reporting `progress(stage, done, total)`.
    """

    def tick(done: int, total: int) -> None:
        progress(stage, done, total)

    return tick
