"""Strategy families: searched values stay in the family, anything else that changes results
starts a new one."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from qtc.manifest.load import load_strategy
from qtc.manifest.strategy import Strategy
from qtc.manifest.variants import user_tree, with_values
from qtc.search.family import family_of, family_of_tree
from tests.conftest import REPO

SEARCHED = ["factors.mom_12_1.lookback", "selection.top_n", "sizing.max_weight"]


@pytest.fixture(scope="module")
def base() -> Strategy:
    loaded = load_strategy(REPO / "strategies" / "momentum_us.toml")
    assert loaded.strategy is not None
    return loaded.strategy


def varied(strategy: Strategy, **values: Any) -> Strategy:
    out, diags = with_values(strategy, {k.replace("__", "."): v for k, v in values.items()})
    assert out is not None, diags
    return out


def test_key_is_the_name_and_12_hex_digits_of_the_unsearched_tree(base: Strategy) -> None:
    tree = user_tree(base)
    for top in ("schema", "name", "description", "extends", "broker", "validate", "search"):
        del tree[top]
    del tree["rebalance"]["max_signal_age_days"]
    del tree["factors"]["mom_12_1"]["lookback"]
    del tree["selection"]["top_n"]
    del tree["sizing"]["max_weight"]
    text = json.dumps(tree, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    expected = hashlib.sha256(text.encode()).hexdigest()
    family = family_of(base, SEARCHED)
    assert family.fingerprint == f"sha256:{expected}"
    assert family.key == f"momentum_us@{expected[:12]}"
    assert family.searched == tuple(sorted(SEARCHED))


def test_changing_a_searched_value_keeps_the_family(base: Strategy) -> None:
    other = varied(base, factors__mom_12_1__lookback=126, selection__top_n=20)
    assert family_of(other, SEARCHED) == family_of(base, SEARCHED)


@pytest.mark.parametrize(
    "change",
    [
        {"costs.slippage_bps": 5.0},
        {"factors.vol_63.window": 42},
        {"data.start": "2006-01-03"},
        {"selection.buffer": 5},
    ],
)
def test_changing_an_unsearched_value_starts_a_new_family(
    base: Strategy, change: dict[str, Any]
) -> None:
    other, diags = with_values(base, change)
    assert other is not None, diags
    assert family_of(other, SEARCHED).key != family_of(base, SEARCHED).key


@pytest.mark.parametrize(
    "change",
    [
        {"description": "another description"},
        {"broker.account": "other"},
        {"validate.min_rank_ic": 0.05},
        {"rebalance.max_signal_age_days": 5},
        {"search": {"selection.top_n": [10, 30]}},
    ],
)
def test_settings_that_do_not_change_results_keep_the_family(
    base: Strategy, change: dict[str, Any]
) -> None:
    other, diags = with_values(base, change)
    assert other is not None, diags
    assert family_of(other, SEARCHED) == family_of(base, SEARCHED)


def test_another_name_is_another_family(base: Strategy) -> None:
    tree = user_tree(base)
    renamed = {**tree, "name": "momentum_copy"}
    a, b = family_of_tree(tree, SEARCHED), family_of_tree(renamed, SEARCHED)
    assert a.fingerprint == b.fingerprint
    assert b.key.startswith("momentum_copy@")


def test_paths_as_text_or_tuples_in_any_order_agree(base: Strategy) -> None:
    tuples = [("sizing", "max_weight"), ("selection", "top_n"), ("factors", "mom_12_1", "lookback")]
    assert family_of(base, tuples) == family_of(base, SEARCHED)


def test_a_table_path_removes_the_table_and_a_missing_path_removes_nothing(
    base: Strategy,
) -> None:
    assert family_of(base, ["costs"]) == family_of(
        varied(base, costs__slippage_bps=1.0, costs__commission_bps=0.0), ["costs"]
    )
    assert family_of(base, ["risk.no_such_key"]).fingerprint == family_of(base, []).fingerprint
    assert family_of(base, []).fingerprint != family_of(base, ["costs"]).fingerprint
