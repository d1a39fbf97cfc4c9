"""`redact_line`: no quoted source line ever shows a credential-looking value."""

from __future__ import annotations

import pytest

from qtc.manifest.secrets import is_secret_key, redact_line


@pytest.mark.parametrize(
    ("line", "shown"),
    [
        ('password = "hunter2"', 'password = "<redacted>"'),
        ("passwd = 'hunter2'", 'passwd = "<redacted>"'),
        ('  api_key = "FAKEKEY"  # note', '  api_key = "<redacted>"'),
        ("apikey=FAKEKEY", "apikey=<redacted>"),
        ('key_id = "AKFAKE"', 'key_id = "<redacted>"'),
        ('broker.secret_key = "x"', 'broker.secret_key = "<redacted>"'),
        ('"search.broker.token" = ["x"]', '"search.broker.token" = <redacted>'),
        (
            'broker = { kind = "alpaca", api_key = "X" }',
            'broker = { kind = "alpaca", api_key = "<redacted>"',
        ),
        ('"password": "hunter2",', '"password": "<redacted>"'),
        ("export ALPACA_TOKEN=abc", "export ALPACA_TOKEN=<redacted>"),
        ("Authorization: Bearer abc.def", "Authorization: <redacted>"),
        ("proxy-authorization: Basic eA==", "proxy-authorization: <redacted>"),
        ("auth = x", "auth = <redacted>"),
        ("credentials: x", "credentials: <redacted>"),
        (
            "machine api.example.com login bob password hunter2",
            "machine api.example.com login <redacted> password <redacted>",
        ),
        ("  password hunter2", "  password <redacted>"),
        ("  login bob", "  login <redacted>"),
        ("\taccount savings", "\taccount <redacted>"),
        ('url = "https://bob:hunter2@example.com/x"', 'url = "https://<redacted>@example.com/x"'),
    ],
)
def test_credentials_are_redacted(line: str, shown: str) -> None:
    assert redact_line(line) == shown


@pytest.mark.parametrize(
    "line",
    [
        'secret_key_env = "QTC_ALPACA_SECRET_KEY"',
        'key_id_env = "QTC_ALPACA_KEY_ID"',
        'account = "DU1234567"',
        'author = "me"',
        "weights = { mom_12_1 = 1.0, vol_63 = -0.25 }",
        "start = 2005-01-01T10:00:00",
        'benchmark = "SPY"',
        "[broker]",
        "# credentials come from the environment",
        "",
    ],
)
def test_ordinary_lines_are_unchanged(line: str) -> None:
    assert redact_line(line) == line


@pytest.mark.parametrize(
    ("key", "secret"),
    [
        ("password", True),
        ("passwd", True),
        ("api_key", True),
        ("apikey", True),
        ("key_id", True),
        ("auth_token", True),
        ("authorization", True),
        ("credential", True),
        ("secret_key_env", False),
        ("author", False),
        ("authors", False),
        ("account", False),
        ("max_weight", False),
    ],
)
def test_is_secret_key(key: str, secret: bool) -> None:
    assert is_secret_key(key) is secret
