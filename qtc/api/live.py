"""The live part of the library facade: `qtc rebalance`, `positions`, `reconcile`, `kill`.

Each function hands its arguments to `qtc.live` with qtc's state folder and the process
environment, and returns what it gets back: planning a rebalance is `qtc.live.rebalance`,
the checks around sending `qtc.live.session`, reading accounts `qtc.live.accounts`, the
kill switch `qtc.live.control`, building brokers `qtc.live.brokers.factory`.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qtc.api.data import LakeRef
from qtc.api.strategy import compile_file

if TYPE_CHECKING:
    from qtc.live.accounts import Reconciled
    from qtc.live.brokers.base import Account, Broker, Position
    from qtc.live.control import Killed
    from qtc.live.execute import Timing as Timing
    from qtc.live.orderplan import OrderPlan
    from qtc.live.rebalance import Signal
    from qtc.live.recheck import Recheck
    from qtc.live.session import Executed

STATE_ENV = "QTC_STATE_DIR"


def __getattr__(name: str) -> Any:
    """`Timing` from `qtc.live.execute`, imported on first use (a dry run never sends).

    Raises:
        AttributeError: For any other name.
    """
    if name == "Timing":
        from qtc.live.execute import Timing

        return Timing
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass
class Planned:
    """A computed or loaded order plan, with the connected broker it was made against.

    `checked` is the plan re-checked against the account (set by `recheck`); what is shown
    and enforced before sending comes from it, not from the plan's stored risk column.
    """

    path: Path
    plan: OrderPlan
    broker: Broker
    checked: Recheck | None = None
    loaded: bool = False

    @property
    def document(self) -> dict[str, Any]:
        """The plan as JSON-ready data: as built, or as its file has it (keys sorted)."""
        return self.plan.document(sort_keys=self.loaded)


def state_dir() -> Path:
    """Return the state folder: `$QTC_STATE_DIR` or the user data dir (accounts, runs)."""
    if os.environ.get(STATE_ENV):
        return Path(os.environ[STATE_ENV])
    from platformdirs import user_data_dir

    return Path(user_data_dir("qtc"))


def plan_rebalance(
    path: str,
    *,
    broker_kind: str | None,
    lake: LakeRef,
    as_of: dt.date,
    today: dt.date,
    overrides: list[str] | None = None,
    out: Path = Path("orders"),
) -> Planned:
    """Compute targets, read the broker, plan and risk-check orders, write the signed plan.

    `broker_kind` None means the strategy's own `[broker]`; another kind starts from that
    kind's defaults, with the `broker.*` overrides applied to it. `as_of` is the date the plan
    is made for (the CLI's default is `today`); the signal is the lake's last trading day on
    or before it.
    """
    from qtc.live.rebalance import plan_rebalance as plan

    done = plan(
        _signal(path, lake, overrides, as_of, broker_kind),
        strategy_file=path,
        as_of=as_of,
        today=today,
        state=state_dir(),
        environ=os.environ,
        out=out,
    )
    return Planned(done.path, done.plan, done.broker)


def _signal(
    path: str,
    lake: LakeRef,
    overrides: list[str] | None,
    as_of: dt.date | None,
    broker_kind: str | None = None,
) -> Signal:
    """The strategy compiled for the signal date, its live targets and the lake's closes.

    With `broker_kind`, `--broker` is applied as the first override (`broker_overrides`).
    """
    from qtc.lake import Lake
    from qtc.live.rebalance import compile_date, read_signal
    from qtc.live.strategy_file import broker_overrides

    store = Lake(lake.path)
    settings = broker_overrides(path, broker_kind, overrides)
    compiled = compile_file(path, overrides=settings, as_of=compile_date(store, as_of))
    strategy = compiled.loaded.strategy
    assert strategy is not None
    return read_signal(strategy, compiled.plan, store, as_of, broker_kind)


def check_window(planned: Planned, *, force: bool) -> None:
    """Refuse early (before asking for confirmation) when the window already ran or runs."""
    from qtc.live.session import check_window as check

    check(planned.plan, planned.path, state=state_dir(), force=force)


def recheck(planned: Planned, *, today: dt.date) -> Planned:
    """The plan re-checked against its broker account now (see `qtc.live.recheck`)."""
    from qtc.live.recheck import recheck as check

    planned.checked = check(planned.plan, planned.broker, state=state_dir(), today=today)
    return planned


def enforce(planned: Planned, *, today: dt.date, allow_stale: bool) -> None:
    """Refuse (before asking) a plan whose re-check fails: risk, staleness, date."""
    from qtc.live.recheck import enforce as refuse

    assert planned.checked is not None, "recheck(planned) comes first"
    refuse(planned.plan, planned.checked, today=today, allow_stale=allow_stale)


def execute(
    planned: Planned,
    *,
    force: bool,
    today: dt.date,
    allow_stale: bool = False,
    timing: Timing | None = None,
) -> Executed:
    """Execute a confirmed plan on its broker; it is re-checked first (`session.execute`)."""
    from qtc.live.session import execute as run

    return run(
        planned.plan,
        planned.path,
        planned.broker,
        state=state_dir(),
        force=force,
        environ=os.environ,
        today=today,
        allow_stale=allow_stale,
        timing=timing,
    )


def load_plan(path: Path) -> Planned:
    """Read a saved order plan (hash and signature checked) and connect to its account."""
    from qtc.live.planfile import read_order_plan
    from qtc.live.session import connect
    from qtc.live.signing import signing_key

    state = state_dir()
    plan = read_order_plan(path, signing_key(state, os.environ))
    broker = connect(plan, state=state, environ=os.environ)
    return Planned(path, plan, broker, loaded=True)


def resume(
    plan: Path | None,
    strategy_file: str | None,
    *,
    today: dt.date,
    allow_stale: bool = False,
    timing: Timing | None = None,
) -> Executed:
    """Finish an interrupted run, named by its order plan or by its strategy file."""
    from qtc.live.session import plan_to_resume
    from qtc.live.session import resume as run
    from qtc.live.signing import signing_key

    state = state_dir()
    return run(
        plan or plan_to_resume(state, strategy_file),
        state=state,
        environ=os.environ,
        key=signing_key(state, os.environ),
        today=today,
        allow_stale=allow_stale,
        timing=timing,
    )


def positions(
    broker_kind: str, account: str | None = None, strategy_file: str | None = None
) -> tuple[Account, list[Position]]:
    """Account and positions at a broker (a paper account is marked at its last fills).

    Raises:
        UserError: A paper account that does not exist yet, or missing credentials.
    """
    from qtc.live.accounts import holdings

    return holdings(broker_kind, account, strategy_file, state=state_dir(), environ=os.environ)


def reconcile(
    path: str,
    *,
    broker_kind: str | None,
    lake: LakeRef,
    overrides: list[str] | None = None,
    as_of: dt.date | None = None,
) -> Reconciled:
    """Compare today's targets with the broker's holdings; record the equity; send nothing."""
    from qtc.live.accounts import reconcile as compare

    signal = _signal(path, lake, overrides, as_of, broker_kind)
    return compare(signal, broker_kind, state=state_dir(), environ=os.environ)


def kill_broker(
    broker_kind: str, strategy_file: str | None, account: str | None, lake: str | None = None
) -> Broker:
    """The connected broker `qtc kill` acts on (settings from the strategy file if given).

    Paper and mock accounts sell at each symbol's latest close in the lake.
    """
    from qtc.api.data import find_lake
    from qtc.live.pricing import flatten_prices

    prices = flatten_prices(broker_kind, lambda: find_lake(lake).path)
    return connect_broker(broker_kind, strategy_file, account, prices=prices)


def connect_broker(
    broker_kind: str,
    strategy_file: str | None,
    account: str | None,
    *,
    prices: dict[str, float],
) -> Broker:
    """A connected broker of a kind, with the strategy file's `[broker]` settings if given."""
    from qtc.live.brokers.factory import connect_broker as connect
    from qtc.live.strategy_file import broker_section

    section = broker_section(strategy_file)
    return connect(
        broker_kind, section, account, prices=prices, state=state_dir(), environ=os.environ
    )


def kill(broker: Broker, *, flatten: bool, timing: Timing | None = None) -> Killed:
    """Cancel every open order (logged first); with `flatten`, sell every position."""
    from qtc.live.control import kill as stop

    return stop(broker, state=state_dir(), flatten=flatten, timing=timing)
