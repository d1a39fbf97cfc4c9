"""The Alpaca adapter beyond the broker contract, against the fake Alpaca server (`fake_alpaca`).

Endpoints and credentials, the secrets policy, Alpaca's 422 on a duplicate client order id,
the status mapping, refusals at submit time and transport failures.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, get_args

import pytest
import requests
import test_broker_contract as contract
from alpaca.trading.enums import OrderStatus as AlpacaStatus
from fake_alpaca import CASH, PRICES, FakeAccount, FakeAlpacaServer

from qtc.errors import UserError
from qtc.live.brokers.alpaca import (
    DATA_URL,
    DATA_URL_ENV,
    LIVE_TRADING_URL,
    PAPER_TRADING_URL,
    REDACTED,
    TRADING_URL_ENV,
    AlpacaAPIError,
    AlpacaAuthError,
    AlpacaBroker,
    from_settings,
    make_clients,
    map_status,
    redact,
)
from qtc.live.brokers.base import (
    BrokerDisconnected,
    BrokerError,
    OrderRequest,
    OrderStatus,
    Position,
)
from qtc.manifest.broker import AlpacaBroker as AlpacaSection


@pytest.fixture
def server() -> Iterator[FakeAlpacaServer]:
    srv = FakeAlpacaServer().start()
    yield srv
    srv.stop()
    srv.http.check_handler_errors()  # a bug in the fake fails the test that hit it


@pytest.fixture
def account(server: FakeAlpacaServer) -> FakeAccount:
    return server.add_account()


@pytest.fixture
def broker(server: FakeAlpacaServer, account: FakeAccount) -> AlpacaBroker:
    connected = server.broker(account)
    connected.connect()
    return connected


def buy(coid: str, symbol: str, qty: float, **kw: Any) -> OrderRequest:
    return OrderRequest(coid, symbol, "buy", qty, **kw)


def sell(coid: str, symbol: str, qty: float, **kw: Any) -> OrderRequest:
    return OrderRequest(coid, symbol, "sell", qty, **kw)


def assert_no_secret(text: str, account: FakeAccount) -> None:
    assert account.key_id not in text
    assert account.secret_key not in text


def test_fake_account_matches_the_contract() -> None:
    assert (CASH, PRICES) == (contract.CASH, contract.PRICES)


# -- endpoints and credentials -----------------------------------------------------------------


def test_paper_endpoint_is_the_default() -> None:
    broker = AlpacaBroker("KEY", "SECRET")
    assert broker.paper is True
    assert (broker.trading_url, broker.data_url) == (PAPER_TRADING_URL, DATA_URL)
    assert AlpacaBroker("KEY", "SECRET", paper=False).trading_url == LIVE_TRADING_URL
    trading, data = make_clients("KEY", "SECRET")
    assert trading._base_url == "https://paper-api.alpaca.markets"
    assert data._base_url == "https://data.alpaca.markets"
    live, _ = make_clients("KEY", "SECRET", paper=False)
    assert live._base_url == "https://api.alpaca.markets"


@pytest.mark.parametrize(
    ("options", "url"),
    [({}, "https://paper-api.alpaca.markets"), ({"paper": False}, "https://api.alpaca.markets")],
)
def test_connect_calls_the_chosen_endpoint_with_a_timeout(
    monkeypatch: pytest.MonkeyPatch, options: dict[str, Any], url: str
) -> None:
    seen: list[tuple[str, str, Any]] = []

    def no_network(self: requests.Session, method: str, target: str, **kw: Any) -> Any:
        seen.append((method, target, kw.get("timeout")))
        raise requests.ConnectionError("no network in tests")

    monkeypatch.setattr(requests.Session, "request", no_network)
    broker = AlpacaBroker("KEY", "SECRET", timeout=7.5, **options)
    with pytest.raises(BrokerDisconnected, match="cannot reach Alpaca"):
        broker.connect()
    assert seen == [("GET", f"{url}/v2/account", 7.5)]
    assert not broker.connected


@pytest.mark.parametrize("missing", ["QTC_ALPACA_KEY_ID", "QTC_ALPACA_SECRET_KEY"])
@pytest.mark.parametrize("value", [None, "", "   "])
def test_missing_credentials_name_the_variable(missing: str, value: str | None) -> None:
    env = {"QTC_ALPACA_KEY_ID": "PKVISIBLEKEY", "QTC_ALPACA_SECRET_KEY": "visible-secret"}
    if value is None:
        del env[missing]
    else:
        env[missing] = value
    with pytest.raises(UserError) as err:
        from_settings(AlpacaSection(kind="alpaca"), env)
    assert missing in err.value.message
    assert f"export {missing}=" in err.value.hint
    for text in (err.value.message, err.value.hint):
        assert "PKVISIBLEKEY" not in text and "visible-secret" not in text


def test_settings_read_the_named_variables_and_url_overrides(
    server: FakeAlpacaServer, account: FakeAccount
) -> None:
    section = AlpacaSection(kind="alpaca", key_id_env="MY_KEY", secret_key_env="MY_SECRET")
    env = {
        "MY_KEY": account.key_id,
        "MY_SECRET": account.secret_key,
        TRADING_URL_ENV: server.url,
        DATA_URL_ENV: server.url,
    }
    broker = from_settings(section, env)
    assert (broker.trading_url, broker.data_url) == (server.url, server.url)
    broker.connect()
    assert broker.account().account_id == account.account_number
    assert broker.quotes(["AAA"]) == {"AAA": 100.0}


def test_settings_without_overrides_use_alpaca() -> None:
    env = {"QTC_ALPACA_KEY_ID": "K", "QTC_ALPACA_SECRET_KEY": "S"}
    paper = from_settings(AlpacaSection(kind="alpaca"), env)
    live = from_settings(AlpacaSection(kind="alpaca", paper=False), env)
    assert (paper.trading_url, paper.data_url) == (PAPER_TRADING_URL, DATA_URL)
    assert (live.paper, live.trading_url) == (False, LIVE_TRADING_URL)


def test_empty_credentials_are_refused() -> None:
    with pytest.raises(UserError):
        AlpacaBroker("", "secret")
    with pytest.raises(UserError):
        AlpacaBroker("key", "")


def test_the_fake_checks_the_auth_headers(server: FakeAlpacaServer, account: FakeAccount) -> None:
    url = f"{server.url}/v2/account"
    assert requests.get(url, timeout=5).status_code == 401
    wrong = {"APCA-API-KEY-ID": account.key_id, "APCA-API-SECRET-KEY": "nope"}
    assert requests.get(url, headers=wrong, timeout=5).status_code == 403
    right = {"APCA-API-KEY-ID": account.key_id, "APCA-API-SECRET-KEY": account.secret_key}
    answer = requests.get(url, headers=right, timeout=5)
    assert answer.status_code == 200
    assert answer.json()["account_number"] == account.account_number


@pytest.mark.parametrize("wrong", ["secret", "key"])
def test_wrong_credentials_are_an_error_without_the_secrets(
    server: FakeAlpacaServer, account: FakeAccount, wrong: str
) -> None:
    key = account.key_id if wrong == "secret" else "PKWRONGKEY0000"
    secret = account.secret_key if wrong == "key" else "wrong-secret-value"
    broker = AlpacaBroker(key, secret, trading_url=server.url, data_url=server.url)
    with pytest.raises(AlpacaAuthError) as err:
        broker.connect()
    assert not isinstance(err.value, BrokerDisconnected)
    assert err.value.status == 403
    assert not broker.connected
    for text in (str(err.value), err.value.hint, repr(err.value)):
        assert key not in text and secret not in text
        assert_no_secret(text, account)


def test_credentials_revoked_after_connect_are_errors_not_rejections(
    broker: AlpacaBroker, account: FakeAccount
) -> None:
    account.secret_key = "rotated-secret"
    with pytest.raises(AlpacaAuthError):
        broker.account()
    with pytest.raises(AlpacaAuthError):
        broker.submit(buy("b1", "AAA", 1))
    assert broker.connected  # not a transport failure
    assert account.ledger.states == {}


def test_account_id_guard(server: FakeAlpacaServer, account: FakeAccount) -> None:
    other = server.broker(account, account_id="PA99999999")
    with pytest.raises(BrokerError, match="not PA99999999"):
        other.connect()
    assert not other.connected
    same = server.broker(account, account_id=account.account_number)
    same.connect()
    assert same.account().account_id == account.account_number


# -- secrets -----------------------------------------------------------------------------------


def test_repr_has_no_secrets(server: FakeAlpacaServer, account: FakeAccount) -> None:
    broker = server.broker(account)
    for text in (repr(broker), str(broker)):
        assert_no_secret(text, account)
        assert "connected=False" in text
    broker.connect()
    assert_no_secret(repr(broker), account)
    assert "connected=True" in repr(broker)


@pytest.mark.parametrize(("status", "kind"), [(400, AlpacaAPIError), (503, BrokerDisconnected)])
def test_error_messages_echoing_the_secrets_are_scrubbed(
    broker: AlpacaBroker, account: FakeAccount, status: int, kind: type[BrokerError]
) -> None:
    echo = f"bad request from {account.key_id} with {account.secret_key}"
    account.fail_next(status, {"code": 40010001, "message": echo})
    with pytest.raises(kind) as err:
        broker.account()
    message = str(err.value)
    assert_no_secret(message, account)
    assert f"bad request from {REDACTED} with {REDACTED}" in message
    assert err.value.__cause__ is None and err.value.__context__ is None


def test_rejection_reasons_are_scrubbed(broker: AlpacaBroker, account: FakeAccount) -> None:
    body = {"code": 40310000, "message": f"no trading for {account.secret_key}"}
    account.fail_next(403, body, method="POST")
    state = broker.submit(buy("b1", "AAA", 1))
    assert state.status == "rejected"
    assert state.reason == f"Alpaca refused the order: no trading for {REDACTED}"


def test_redact_replaces_every_secret_longest_first() -> None:
    assert redact("k=KEY s=KEYSECRET", ("KEY", "KEYSECRET")) == "k=<redacted> s=<redacted>"
    assert redact("nothing here", ("", "x-y")) == "nothing here"


# -- duplicate client order ids ------------------------------------------------------------------


def test_alpaca_422_on_a_duplicate_id_returns_the_existing_order(
    broker: AlpacaBroker, account: FakeAccount
) -> None:
    first = broker.submit(buy("dup", "AAA", 10))
    account.hide_once("dup")  # the lookup misses it (a concurrent submit): Alpaca answers 422
    again = broker.submit(buy("dup", "AAA", 10))
    assert again == first
    assert account.posts() == 2  # the second POST was sent and refused
    assert list(account.ledger.states) == ["dup"]
    assert broker.positions() == [Position("AAA", 10, 100.0)]
    assert broker.account().cash == pytest.approx(CASH - 1_000.0)


def test_alpaca_422_on_a_duplicate_id_for_another_order_is_an_error(
    broker: AlpacaBroker, account: FakeAccount
) -> None:
    broker.submit(buy("dup", "AAA", 10))
    account.hide_once("dup")
    with pytest.raises(BrokerError, match=r"already used for a different order \(buy 10 AAA\)"):
        broker.submit(buy("dup", "AAA", 3))
    assert broker.positions() == [Position("AAA", 10, 100.0)]


def test_a_known_id_is_not_sent_again(broker: AlpacaBroker, account: FakeAccount) -> None:
    broker.submit(buy("b1", "AAA", 0.1 + 0.2))  # 0.30000000000000004, sent as 0.3
    assert account.ledger.requests["b1"].quantity == 0.3
    assert broker.submit(buy("b1", "AAA", 0.1 + 0.2)).status == "filled"
    assert account.posts() == 1
    with pytest.raises(BrokerError, match="already used"):
        broker.submit(buy("b1", "AAA", 0.3, order_type="limit", limit_price=99.0))


# -- status mapping ----------------------------------------------------------------------------

MAPPING = [
    ("new", 0, "new"),
    ("accepted", 0, "accepted"),
    ("pending_new", 0, "accepted"),
    ("accepted_for_bidding", 0, "accepted"),
    ("pending_review", 0, "accepted"),
    ("held", 0, "accepted"),
    ("stopped", 0, "accepted"),
    ("suspended", 0, "accepted"),
    ("pending_cancel", 0, "accepted"),
    ("pending_replace", 0, "accepted"),
    ("pending_cancel", 4, "partially_filled"),
    ("new", 4, "partially_filled"),
    ("partially_filled", 4, "partially_filled"),
    ("filled", 10, "filled"),
    ("canceled", 0, "canceled"),
    ("canceled", 4, "canceled"),
    ("expired", 0, "canceled"),
    ("done_for_day", 4, "canceled"),
    ("replaced", 0, "canceled"),
    ("calculated", 10, "filled"),
    ("calculated", 4, "canceled"),
    ("rejected", 0, "rejected"),
    ("some_future_status", 0, "accepted"),
]


@pytest.mark.parametrize(("alpaca", "filled", "expected"), MAPPING)
def test_status_mapping(alpaca: str, filled: float, expected: str) -> None:
    assert map_status(alpaca, filled, 10) == expected


def test_every_alpaca_status_is_mapped_and_listed() -> None:
    listed = {alpaca for alpaca, _, _ in MAPPING}
    for status in AlpacaStatus:
        assert status.value in listed
        assert map_status(status.value, 0, 10) in get_args(OrderStatus)


def test_status_mapping_through_the_api(broker: AlpacaBroker, account: FakeAccount) -> None:
    account.rest("AAA")
    state = broker.submit(buy("r1", "AAA", 10))
    assert (state.status, state.filled_quantity, state.avg_fill_price) == ("new", 0, None)

    account.fill("r1", 4)
    partial = broker.order("r1")
    assert partial is not None
    assert (partial.status, partial.filled_quantity, partial.remaining) == (
        "partially_filled",
        4,
        6,
    )
    assert partial.avg_fill_price == pytest.approx(100.0)
    assert broker.open_orders() == [partial]

    account.force_status("r1", "done_for_day")
    done = broker.order("r1")
    assert done is not None
    assert (done.status, done.filled_quantity, done.remaining) == ("canceled", 4, 0)
    assert broker.open_orders() == []
    assert broker.positions() == [Position("AAA", 4, 100.0)]

    broker.submit(buy("r2", "BBB", 1, order_type="limit", limit_price=10.0))
    for alpaca, expected in [("pending_new", "accepted"), ("expired", "canceled")]:
        account.force_status("r2", alpaca)
        assert broker.order("r2").status == expected  # type: ignore[union-attr]


def test_limit_order_fills_at_the_new_price(broker: AlpacaBroker, account: FakeAccount) -> None:
    state = broker.submit(buy("lim", "AAA", 2, order_type="limit", limit_price=95.0))
    assert state.is_open
    sent = account.ledger.requests["lim"]
    assert (sent.order_type, sent.limit_price) == ("limit", 95.0)
    account.set_price("AAA", 94.0)
    filled = broker.order("lim")
    assert filled is not None and filled.status == "filled"
    assert filled.avg_fill_price == pytest.approx(94.0)
    assert broker.account().cash == pytest.approx(CASH - 2 * 94.0)


# -- refusals ----------------------------------------------------------------------------------


def test_buying_power_refusal_is_a_remembered_rejection(
    server: FakeAlpacaServer, broker: AlpacaBroker, account: FakeAccount
) -> None:
    state = broker.submit(buy("big", "AAA", 1_001))
    assert state.status == "rejected"
    assert state.reason == "Alpaca refused the order: insufficient buying power"
    assert (state.broker_order_id, state.filled_quantity) == ("", 0)
    assert broker.order("big") == state
    assert broker.submit(buy("big", "AAA", 1_001)) == state
    assert broker.cancel("big") == state
    assert account.posts() == 1  # the repeat was answered from memory
    assert account.ledger.states == {}  # Alpaca keeps no record of a refused order
    with pytest.raises(BrokerError, match="already used"):
        broker.submit(buy("big", "AAA", 1))
    fresh = server.broker(account)  # another process: Alpaca does not know the id
    fresh.connect()
    assert fresh.order("big") is None


def test_unknown_asset_is_rejected(broker: AlpacaBroker) -> None:
    state = broker.submit(buy("z", "ZZZ", 1))
    assert state.status == "rejected"
    assert state.reason == 'Alpaca refused the order: asset "ZZZ" not found'


def test_fractional_refused_by_alpaca(server: FakeAlpacaServer) -> None:
    account = server.add_account(fractional=False)  # the account has no fractional trading
    broker = server.broker(account)  # ... but the adapter was told it has
    broker.connect()
    state = broker.submit(buy("f1", "AAA", 1.5))
    assert state.status == "rejected" and "fractional" in state.reason
    assert broker.positions() == []
    assert broker.submit(buy("w1", "AAA", 2)).status == "filled"


def test_sells_are_checked_against_the_shares_available(
    broker: AlpacaBroker, account: FakeAccount
) -> None:
    broker.submit(buy("b1", "AAA", 5))
    resting = broker.submit(sell("s1", "AAA", 4, order_type="limit", limit_price=200.0))
    assert resting.is_open
    posts = account.posts()
    state = broker.submit(sell("s2", "AAA", 2))
    assert state.status == "rejected"
    assert state.reason == "cannot sell 2 AAA: only 1 available (short selling is not supported)"
    assert account.posts() == posts  # refused before sending
    assert broker.submit(sell("s3", "AAA", 1)).status == "filled"
    assert broker.positions() == [Position("AAA", 4, 100.0)]


def test_a_short_position_is_an_error(broker: AlpacaBroker, account: FakeAccount) -> None:
    account.ledger.positions["AAA"] = Position("AAA", -5.0, 100.0)
    with pytest.raises(BrokerError, match="short position in AAA"):
        broker.positions()
    state = broker.submit(sell("s1", "AAA", 1))
    assert state.status == "rejected" and "short" in state.reason


# -- quotes, cancels ---------------------------------------------------------------------------


def test_quotes_are_batched_and_skip_unknown_symbols(
    broker: AlpacaBroker, account: FakeAccount
) -> None:
    account.prices = {f"S{i:03d}": float(i + 1) for i in range(250)}
    symbols = [*account.prices, "NOPE"]
    before = len(account.requests)
    quotes = broker.quotes(symbols)
    assert quotes == {f"S{i:03d}": float(i + 1) for i in range(250)}
    calls = account.requests[before:]
    assert calls == [("GET", "/v2/stocks/trades/latest")] * 3  # 100 + 100 + 51 symbols
    assert broker.quotes([]) == {}
    assert len(account.requests) == before + 3


def test_cancel_waits_for_alpaca_to_confirm(server: FakeAlpacaServer, account: FakeAccount) -> None:
    sleeps: list[float] = []
    broker = server.broker(account, sleep=sleeps.append)
    broker.connect()
    account.rest("AAA")
    broker.submit(buy("r1", "AAA", 1))
    account.cancel_delay = 2  # two reads say pending_cancel, the third canceled
    state = broker.cancel("r1")
    assert state.status == "canceled"
    assert len(sleeps) == 2


def test_cancel_gives_up_waiting_after_cancel_wait(
    server: FakeAlpacaServer, account: FakeAccount
) -> None:
    broker = server.broker(account, cancel_wait=0.0)
    broker.connect()
    account.rest("AAA")
    broker.submit(buy("r1", "AAA", 1))
    account.cancel_delay = 5
    state = broker.cancel("r1")
    assert state.status == "accepted"  # pending_cancel: may still fill
    assert account.status("r1") == "pending_cancel"


def test_cancel_refused_as_not_cancelable_returns_the_current_state(
    server: FakeAlpacaServer, account: FakeAccount
) -> None:
    broker = server.broker(account, cancel_wait=0.0)
    broker.connect()
    account.rest("AAA")
    broker.submit(buy("r1", "AAA", 1))
    account.fail_next(
        422, {"code": 42210000, "message": "order is not cancelable"}, method="DELETE"
    )
    assert broker.cancel("r1").status == "new"


# -- transport ---------------------------------------------------------------------------------


def test_stopped_server_is_a_disconnect(server: FakeAlpacaServer, account: FakeAccount) -> None:
    broker = server.broker(account)
    broker.connect()
    server.stop()
    with pytest.raises(BrokerDisconnected, match="cannot reach Alpaca during account") as err:
        broker.account()
    assert_no_secret(str(err.value), account)
    assert not broker.connected
    with pytest.raises(BrokerDisconnected, match="not connected"):
        broker.positions()
    with pytest.raises(BrokerDisconnected, match="cannot reach Alpaca during connect"):
        broker.connect()


def test_server_errors_are_disconnects_and_reconnect_works(
    broker: AlpacaBroker, account: FakeAccount
) -> None:
    account.fail_next(503, {"message": "service unavailable"})
    with pytest.raises(BrokerDisconnected, match=r"HTTP 503\): service unavailable"):
        broker.submit(buy("b1", "AAA", 1))
    assert not broker.connected
    broker.connect()
    assert broker.order("b1") is None  # the failed lookup sent nothing
    assert broker.submit(buy("b1", "AAA", 1)).status == "filled"


def test_other_api_errors_keep_the_connection(broker: AlpacaBroker, account: FakeAccount) -> None:
    account.fail_next(400, {"code": 40010001, "message": "invalid symbols"})
    with pytest.raises(AlpacaAPIError) as err:
        broker.quotes(["AAA"])
    assert (err.value.status, err.value.code, err.value.detail) == (
        400,
        40010001,
        "invalid symbols",
    )
    assert broker.connected
    assert broker.quotes(["AAA"]) == {"AAA": 100.0}
