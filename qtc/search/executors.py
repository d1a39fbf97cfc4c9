"""Where trials run: in this process, in local worker processes, or on a Ray cluster.

Work is cut into batches of variants that share their factors and score (so each
batch computes them once, in its worker's `FactorCache`). Every executor runs the
same `evaluate` on the same plans and market, so results are identical whichever
runs them and however many workers there are; only the order in which trials
arrive differs, and the search sorts them by number.

* `local`, `jobs == 1`: this process, the market already loaded.
* `local`, `jobs > 1`: a pool of spawned worker processes. Each loads the market
  once from the lake, whose price matrices are memory-mapped from the lake's matrix
  cache (the operating system shares those pages; no worker copies the file).
  Processes, not threads: nanobook's Portfolio calls hold the GIL.
* `ray`: `ray.put` puts the loaded market in Ray's object store once; each task
  evaluates one batch. `address` (or `RAY_ADDRESS`) names a cluster; with neither,
  a local Ray is started with `jobs` CPUs.

`run_local` and `run_ray` run one list of batches (a sweep); `qtc.search.runners` keeps
the workers (their loaded markets and factor caches) between lists of batches, for a
search that evaluates one generation after another (`qtc evolve`).
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from qtc.compile.plan import Plan
from qtc.errors import QtcError, UserError
from qtc.pipeline.factors import FactorCache
from qtc.pipeline.market import Market
from qtc.search.evaluate import Trial, evaluate

RAY_INSTALL = 'install the Ray extra: `uv sync --extra ray` (or `pip install "qtc[ray]"`)'
FAULT_ENV = "QTC_FAULT_WORKER_EXIT"
"""Fault injection for tests: a worker process exits abruptly before this trial number."""


class WorkerLostError(QtcError):
    """A worker process or Ray task died; the trials finished before it are kept."""

    def __init__(self, detail: str) -> None:
        super().__init__(
            f"a worker died during the search ({detail})",
            hint="the finished trials are saved; continue with the --resume command below",
        )


@dataclass(frozen=True)
class Batch:
    """Variants evaluated together (one market; they share factors and score).

    Attributes:
        market: The `market_key` of their load stage.
        numbers: Each variant's trial number.
        plans: Each variant's plan as JSON (`Plan.to_json`).
    """

    market: str
    numbers: tuple[int, ...]
    plans: tuple[str, ...]


def batches(numbered: Sequence[tuple[int, Plan]], jobs: int) -> list[Batch]:
    """Group variants by market and by the stages before selection, then cut the groups.

    Groups are cut into pieces of at most ceil(total / (2 * jobs)) variants, so every
    worker has work and a shared factor is computed at most a few times. Batches come
    sorted by market, so a worker meets each market in one stretch.
    """
    groups: dict[tuple[str, str], list[tuple[int, Plan]]] = {}
    for number, plan in numbered:
        groups.setdefault(_shared_key(plan), []).append((number, plan))
    size = max(1, -(-len(numbered) // max(1, 2 * jobs)))
    out: list[Batch] = []
    for (market, _), members in sorted(groups.items(), key=lambda item: item[0]):
        for start in range(0, len(members), size):
            part = members[start : start + size]
            numbers = tuple(n for n, _ in part)
            out.append(Batch(market, numbers, tuple(p.to_json() for _, p in part)))
    return out


def _shared_key(plan: Plan) -> tuple[str, str]:
    """What variants must agree on to share work: the market, the factor and score stages."""
    from qtc.pipeline.market import market_key
    from qtc.pipeline.runner import load_spec

    stages = "|".join(
        s.model_dump_json() for s in plan.stages if s.stage in ("compute_factors", "score")
    )
    return market_key(load_spec(plan)), stages


class Markets:
    """The market of each batch, loaded from the lake when first needed.

    The last `keep` markets stay loaded (a sweep meets each market in one stretch and
    keeps one; an evolution meets its markets again in every generation).
    """

    def __init__(
        self, lake: Any, keep: int = 1, on_evict: Callable[[str], None] | None = None
    ) -> None:
        self.lake = lake
        self.keep = max(1, keep)
        self.loaded: OrderedDict[str, Market] = OrderedDict()
        self.on_evict = on_evict

    @property
    def market(self) -> Market | None:
        """The most recently used market (None when none is loaded)."""
        return next(reversed(self.loaded.values()), None)

    def clear(self) -> None:
        """Forget every loaded market."""
        self.loaded.clear()

    def get(self, batch: Batch) -> Market:
        """The batch's market."""
        found = self.loaded.get(batch.market)
        if found is not None:
            self.loaded.move_to_end(batch.market)
            return found
        from qtc.pipeline.market import load_market
        from qtc.pipeline.runner import load_spec

        while len(self.loaded) >= self.keep:
            dropped, _ = self.loaded.popitem(last=False)  # free the oldest first
            if self.on_evict is not None:
                self.on_evict(dropped)  # its factors go too
        market = load_market(load_spec(Plan.from_json(batch.plans[0])), self.lake)
        self.loaded[batch.market] = market
        return market


def run_batch(batch: Batch, market: Market, cache: FactorCache) -> list[Trial]:
    """Evaluate every variant of a batch on its market."""
    return [
        evaluate(number, Plan.from_json(text), market, cache)
        for number, text in zip(batch.numbers, batch.plans, strict=True)
    ]


def run_local(
    work: Sequence[Batch], lake: Any, jobs: int, on_trial: Callable[[Trial], None]
) -> None:
    """Run batches here (`jobs == 1`) or in `jobs` spawned worker processes."""
    if jobs <= 1 or len(work) <= 1:
        cache = FactorCache()
        markets = Markets(lake, on_evict=cache.forget)
        for batch in work:
            for trial in run_batch(batch, markets.get(batch), cache):
                on_trial(trial)
        return
    for trial in _pool(work, lake, jobs):
        on_trial(trial)


def _pool(work: Sequence[Batch], lake: Any, jobs: int) -> Iterator[Trial]:
    """Trials from a spawned process pool, as batches finish (Ctrl-C stops the workers)."""
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(
        max_workers=min(jobs, len(work)),
        mp_context=context,
        initializer=start_worker,
        initargs=(str(lake.path),),
    )
    try:
        pending = {pool.submit(worker_batch, batch) for batch in work}
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                yield from pool_result(future)
    except BaseException:
        stop_pool(pool)
        raise
    pool.shutdown(wait=True)


def pool_result(future: Any) -> list[Trial]:
    """A batch's trials; a dead worker process is a WorkerLostError."""
    from concurrent.futures.process import BrokenProcessPool

    try:
        trials: list[Trial] = future.result()
    except BrokenProcessPool as exc:
        raise WorkerLostError(f"a worker process exited: {exc}") from None
    return trials


def stop_pool(pool: Any) -> None:
    """Cancel what has not started and terminate the workers (Ctrl-C or a failure)."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(timeout=5)


_WORKER: dict[str, Any] = {}


def start_worker(lake_path: str, keep_markets: int = 1, max_factors: int = 0) -> None:
    """Worker initializer: open the lake; markets load as batches need them.

    Args:
        lake_path: The lake.
        keep_markets: How many loaded markets the worker keeps.
        max_factors: Start a fresh factor cache once it holds more factors (0: never).
    """
    import signal

    from qtc.lake import Lake

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    _WORKER["cache"] = FactorCache()
    _WORKER["markets"] = Markets(Lake(lake_path), keep_markets, on_evict=_forget_factors)
    _WORKER["max_factors"] = max_factors


def _forget_factors(market: str) -> None:
    """Drop a worker's factors of a market it no longer keeps."""
    cache: FactorCache = _WORKER["cache"]
    cache.forget(market)


def worker_batch(batch: Batch) -> list[Trial]:
    """A batch in a worker process (`QTC_FAULT_WORKER_EXIT=N`: die before trial N)."""
    fault = os.environ.get(FAULT_ENV)
    if fault and fault.isdigit() and int(fault) in batch.numbers:
        os._exit(9)
    markets: Markets = _WORKER["markets"]
    _WORKER["cache"] = bounded(_WORKER["cache"], _WORKER.get("max_factors", 0))
    return run_batch(batch, markets.get(batch), _WORKER["cache"])


def bounded(cache: FactorCache, most: int) -> FactorCache:
    """The cache, or a fresh one when it holds more than `most` factors (0: no bound)."""
    return FactorCache() if most and len(cache) > most else cache


def ray_available() -> bool:
    """Whether Ray can be imported."""
    import importlib.util

    return importlib.util.find_spec("ray") is not None


def run_ray(
    work: Sequence[Batch],
    lake: Any,
    jobs: int,
    address: str | None,
    on_trial: Callable[[Trial], None],
) -> None:
    """Run batches as Ray tasks, each market once in the object store.

    Raises:
        UserError: If Ray is not installed or the cluster cannot be reached.
    """
    if not ray_available():
        raise UserError("the Ray executor needs Ray, which is not installed", hint=RAY_INSTALL)
    os.environ.setdefault("RAY_ENABLE_UV_RUN_RUNTIME_ENV", "0")  # workers use this Python
    import ray

    connect(ray, address or os.environ.get("RAY_ADDRESS") or None, jobs)
    try:
        remote = ray.remote(ray_batch)
        markets, shared = Markets(lake), {}
        for batch in work:
            if batch.market not in shared:
                shared[batch.market] = ray.put(markets.get(batch))
        markets.clear()
        pending = [remote.remote(batch, shared[batch.market]) for batch in work]
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            for trial in ray_result(ray, done[0]):
                on_trial(trial)
    finally:
        ray.shutdown()


def ray_result(ray: Any, ref: Any) -> list[Trial]:
    """A Ray task's trials; a crashed worker or failed task is a WorkerLostError."""
    try:
        trials: list[Trial] = ray.get(ref)
    except (ray.exceptions.RayTaskError, ray.exceptions.RayError) as exc:
        raise WorkerLostError(str(exc).splitlines()[0]) from None
    return trials


def connect(ray: Any, address: str | None, jobs: int) -> None:
    """Start a local Ray with `jobs` CPUs, or join the cluster at `address`."""
    options: dict[str, Any] = {
        "include_dashboard": False,
        "log_to_driver": False,
        "configure_logging": False,
    }
    try:
        if address:
            ray.init(address=address, **options)
        else:
            ray.init(num_cpus=max(1, jobs), **options)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise UserError(
            f"cannot start or reach Ray at {address or 'a local Ray'}: {exc}".splitlines()[0],
            hint="check --ray-address / RAY_ADDRESS (ray://HOST:10001 or HOST:6379)",
        ) from None


def ray_batch(batch: Batch, market: Market) -> list[Trial]:
    """A batch in a Ray task (each task keeps its own factor cache)."""
    return run_batch(batch, market, FactorCache())
