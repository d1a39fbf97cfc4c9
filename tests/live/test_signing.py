"""Order-plan signing keys and signal ages: the pieces the live safety checks rest on."""

from __future__ import annotations

import datetime as dt
import os
import stat
from pathlib import Path

import pytest

from qtc.errors import UserError
from qtc.live.signing import KEY_ENV, check_signature, key_id, sign, signing_key
from qtc.live.staleness import check_sendable_date, signal_age, trading_days_between


def test_the_key_file_is_made_once_with_mode_0600(tmp_path: Path) -> None:
    key = signing_key(tmp_path, {})
    path = tmp_path / "plan.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(key) == 32 and path.read_text().strip() == key.hex()
    assert signing_key(tmp_path, {}) == key  # never replaced
    assert [p.name for p in tmp_path.iterdir()] == ["plan.key"]  # no temp file left


def test_a_key_file_others_can_read_is_refused(tmp_path: Path) -> None:
    signing_key(tmp_path, {})
    os.chmod(tmp_path / "plan.key", 0o644)
    with pytest.raises(UserError, match=r"accessible by others \(mode 0644\)"):
        signing_key(tmp_path, {})


def test_a_key_from_the_environment_is_used_and_must_be_long(tmp_path: Path) -> None:
    key = signing_key(tmp_path, {KEY_ENV: "k" * 32})
    assert key == b"k" * 32 and not (tmp_path / "plan.key").exists()
    with pytest.raises(UserError, match="too short"):
        signing_key(tmp_path, {KEY_ENV: "short"})


def test_the_signature_covers_every_field_and_names_the_key_not_the_key_itself() -> None:
    key = b"\x01" * 32
    doc = {"sha256": "ab", "orders": [{"quantity": 10}]}
    signed = doc | {"signature": sign(doc, key)}
    check_signature(signed, key, Path("p.json"))
    assert key.hex() not in str(signed) and signed["signature"]["key_id"] == key_id(key)
    for change in ({"sha256": "ac"}, {"orders": [{"quantity": 11}]}, {"extra": 1}):
        with pytest.raises(UserError, match="modified after it was signed"):
            check_signature(signed | change, key, Path("p.json"))


@pytest.mark.parametrize(
    ("signal", "reference", "days"),
    [
        (dt.date(2024, 3, 28), dt.date(2024, 3, 28), 0),  # after today's close
        (dt.date(2024, 3, 29), dt.date(2024, 4, 1), 1),  # Friday -> Monday
        (dt.date(2024, 3, 22), dt.date(2024, 3, 28), 4),  # Mon..Thu
        (dt.date(2023, 10, 18), dt.date(2026, 12, 3), 816),  # the lake, today
        (dt.date(2024, 3, 28), dt.date(2024, 3, 1), 0),  # a reference before the signal
    ],
)
def test_trading_days_are_weekdays_after_the_signal(
    signal: dt.date, reference: dt.date, days: int
) -> None:
    assert trading_days_between(signal, reference) == days


def test_a_real_broker_measures_from_today_and_trades_only_today() -> None:
    signal, as_of, today = dt.date(2024, 3, 22), dt.date(2024, 3, 22), dt.date(2024, 3, 28)
    assert signal_age("paper", signal, as_of, today, 2).trading_days == 0  # a replay
    assert signal_age("alpaca", signal, as_of, today, 2).stale  # 4 days before today
    check_sendable_date("paper", as_of, today)
    with pytest.raises(UserError, match="trades today only"):
        check_sendable_date("ibkr", as_of, today)
