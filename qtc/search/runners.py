"""Runners that keep their workers between lists of batches (one per generation).

A search that evaluates generation after generation (`qtc evolve`) opens one runner
and hands it every generation's batches: worker processes, their loaded markets and
factor caches (or the Ray connection and the markets in its object store) live for
the whole search. Each runner calls the same `qtc.search.executors.run_batch` as the
sweep's executors, so results do not depend on which runner ran them.

* `local`, `jobs == 1`: this process.
* `local`, `jobs > 1`: one pool of spawned worker processes.
* `ray`: one Ray session; each market is put in the object store once.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol

from qtc.pipeline.factors import FactorCache
from qtc.search import executors
from qtc.search.evaluate import Trial
from qtc.search.executors import Batch, Markets

KEEP_MARKETS = 4
"""Loaded markets a worker keeps (variants with other look-backs need other warm-ups)."""

MAX_FACTORS = 32
"""A worker starts a fresh factor cache once it holds more factors than this."""

OnTrial = Callable[[Trial], None]


class Runner(Protocol):
    """Runs lists of batches, calling back with every trial as it finishes."""

    def run(self, work: Sequence[Batch], on_trial: OnTrial) -> None:
        """Evaluate every batch of `work`."""

    def close(self) -> None:
        """Stop the workers."""


@contextmanager
def open_runner(lake: Any, executor: str, jobs: int, address: str | None) -> Iterator[Runner]:
    """A runner for the search's executor, closed when the search ends.

    Raises:
        UserError: If Ray is asked for but not installed or not reachable.
    """
    runner: Runner
    if executor == "ray":
        runner = RayRunner(lake, jobs, address)
    elif jobs > 1:
        runner = PoolRunner(lake, jobs)
    else:
        runner = InProcessRunner(lake)
    try:
        yield runner
    finally:
        runner.close()


class InProcessRunner:
    """Batches in this process, one market cache and one factor cache for the search."""

    def __init__(self, lake: Any) -> None:
        self.markets = Markets(lake, KEEP_MARKETS)
        self.cache = FactorCache()

    def run(self, work: Sequence[Batch], on_trial: OnTrial) -> None:
        """Evaluate the batches in order."""
        for batch in work:
            self.cache = executors.bounded(self.cache, MAX_FACTORS)
            for trial in executors.run_batch(batch, self.markets.get(batch), self.cache):
                on_trial(trial)

    def close(self) -> None:
        """Free the markets and factors."""
        self.markets.clear()
        self.cache = FactorCache()


class PoolRunner:
    """Batches in a pool of spawned worker processes, started once."""

    def __init__(self, lake: Any, jobs: int) -> None:
        self.lake_path = str(lake.path)
        self.jobs = jobs
        self.pool: Any = None

    def _started(self) -> Any:
        """The pool (started on first use)."""
        if self.pool is None:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            self.pool = ProcessPoolExecutor(
                max_workers=self.jobs,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=executors.start_worker,
                initargs=(self.lake_path, KEEP_MARKETS, MAX_FACTORS),
            )
        return self.pool

    def run(self, work: Sequence[Batch], on_trial: OnTrial) -> None:
        """Evaluate the batches in the pool (Ctrl-C or a failure stops the workers)."""
        from concurrent.futures import FIRST_COMPLETED, wait

        pool = self._started()
        try:
            pending = {pool.submit(executors.worker_batch, batch) for batch in work}
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    for trial in executors.pool_result(future):
                        on_trial(trial)
        except BaseException:
            executors.stop_pool(pool)
            self.pool = None
            raise

    def close(self) -> None:
        """Shut the pool down."""
        if self.pool is not None:
            self.pool.shutdown(wait=True)
            self.pool = None


class RayRunner:
    """Batches as Ray tasks in one Ray session; each market put once in the object store."""

    def __init__(self, lake: Any, jobs: int, address: str | None) -> None:
        from qtc.errors import UserError

        if not executors.ray_available():
            raise UserError(
                "the Ray executor needs Ray, which is not installed", hint=executors.RAY_INSTALL
            )
        os.environ.setdefault("RAY_ENABLE_UV_RUN_RUNTIME_ENV", "0")  # workers use this Python
        import ray

        self.ray = ray
        executors.connect(ray, address or os.environ.get("RAY_ADDRESS") or None, jobs)
        self.markets = Markets(lake)
        self.shared: dict[str, Any] = {}
        self.remote = ray.remote(executors.ray_batch)

    def run(self, work: Sequence[Batch], on_trial: OnTrial) -> None:
        """Evaluate the batches as Ray tasks."""
        for batch in work:
            if batch.market not in self.shared:
                self.shared[batch.market] = self.ray.put(self.markets.get(batch))
        self.markets.clear()
        pending = [self.remote.remote(batch, self.shared[batch.market]) for batch in work]
        while pending:
            done, pending = self.ray.wait(pending, num_returns=1)
            for trial in executors.ray_result(self.ray, done[0]):
                on_trial(trial)

    def close(self) -> None:
        """Leave the Ray session."""
        self.shared.clear()
        self.ray.shutdown()
