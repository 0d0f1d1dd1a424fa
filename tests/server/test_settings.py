"""Server settings are validated once, and domain errors map to HTTP in one place."""

from __future__ import annotations

from pathlib import Path

import pytest

from backtestr.engine import RunCancelledError
from backtestr.errors import (
    BacktestrError,
    ConfigError,
    DataFormatError,
    FormatDetectionError,
    NoDataError,
    StoreError,
    StrategyError,
)
from backtestr.server.errors import error_response
from backtestr.server.settings import ServerSettings


def test_each_server_gets_its_own_random_token(tmp_path: Path) -> None:
    first, second = ServerSettings(tmp_path, 8765), ServerSettings(tmp_path, 8765)
    assert first.token != second.token
    assert len(first.token) >= 32
    assert first.token not in repr(first)  # never printed by accident
    assert first.url_with_token == f"http://127.0.0.1:8765/?token={first.token}"
    assert first.host == "127.0.0.1"


@pytest.mark.parametrize(
    ("changes", "text"),
    [
        ({"port": 0}, "Invalid port 0"),
        ({"port": 70000}, "Invalid port 70000"),
        ({"token": "short"}, "too short"),
        ({"max_upload_bytes": 0}, "max_upload_bytes"),
    ],
)
def test_bad_settings_are_refused(tmp_path: Path, changes: dict[str, object], text: str) -> None:
    arguments: dict[str, object] = {"home": tmp_path, "port": 8765, **changes}
    with pytest.raises(ConfigError, match=text):
        ServerSettings(**arguments)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (DataFormatError("/srv/tmp/x/EURUSD.csv", "no bid", line=7, column="bid"), 422),
        (FormatDetectionError("a.csv", "unknown layout"), 422),
        (NoDataError("nothing"), 404),
        (ConfigError("bad"), 400),
        (StoreError("locked"), 503),
        (StrategyError("boom", path="<strategy>", line=3), 422),
        (RunCancelledError("stopped"), 409),
        (BacktestrError("a bug"), 500),
    ],
)
def test_domain_errors_map_to_one_status_each(error: BacktestrError, status: int) -> None:
    assert error_response(error)[0] == status
    assert error_response(error)[1]["message"] == str(error)


def test_a_format_error_names_the_file_never_its_server_path() -> None:
    _, body = error_response(
        DataFormatError("/srv/tmp/x/EURUSD.csv", "no bid", line=7, column="bid")
    )
    assert body == {
        "error": "DataFormatError",
        "message": "Invalid data format: EURUSD.csv line 7, column 'bid': no bid",
        "file": "EURUSD.csv",
        "line": 7,
        "column": "bid",
    }
