"""Refusals of the gate: another origin, another host name, no or a wrong token."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.server.conftest import BASE_URL, PORT, TOKEN


def test_api_without_a_token_is_unauthorized(anonymous: TestClient) -> None:
    response = anonymous.get("/api/datasets")
    assert response.status_code == 401
    assert "access token" in response.json()["message"]


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Backtestr-Token": "wrong-token-0123456789"},
        {"Authorization": "token wrong-token-0123456789"},
        {"Cookie": f"backtestr_token_{PORT}=wrong-token-0123456789"},
        # the right token under another port's cookie name is not ours
        {"Cookie": f"backtestr_token_9999={TOKEN}"},
    ],
)
def test_a_wrong_token_is_unauthorized(anonymous: TestClient, headers: dict[str, str]) -> None:
    assert anonymous.get("/api/datasets", headers=headers).status_code == 401


def test_the_page_is_refused_without_a_token(anonymous: TestClient) -> None:
    assert anonymous.get("/").status_code == 401
    assert anonymous.get("/assets/app.js").status_code == 401


def test_token_in_the_address_becomes_a_cookie_and_leaves_the_address(
    anonymous: TestClient,
) -> None:
    response = anonymous.get(f"/?token={TOKEN}&symbol=EURUSD")
    assert response.status_code == 303
    assert response.headers["location"] == "/?symbol=EURUSD"
    cookie = response.headers["set-cookie"]
    assert f"backtestr_token_{PORT}={TOKEN}" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    # the client kept the cookie: the page, its assets and the API now answer
    assert anonymous.get("/").status_code == 200
    assert anonymous.get("/assets/app.js").text == "console.log('hi')"
    assert anonymous.get("/api/datasets").json() == []


def test_a_wrong_token_in_the_address_sets_no_cookie(anonymous: TestClient) -> None:
    response = anonymous.get("/?token=wrong-token-0123456789")
    assert response.status_code == 401
    assert "set-cookie" not in response.headers


def test_authorization_header_is_accepted(anonymous: TestClient) -> None:
    response = anonymous.get("/api/formats", headers={"Authorization": f"token {TOKEN}"})
    assert response.status_code == 200


@pytest.mark.parametrize(
    "origin",
    [
        "http://evil.example",
        f"http://evil.example:{PORT}",
        "http://127.0.0.1:9999",
        f"https://127.0.0.1:{PORT}",
        "null",
    ],
)
def test_a_foreign_origin_is_forbidden_even_with_the_token(client: TestClient, origin: str) -> None:
    response = client.get("/api/datasets", headers={"Origin": origin})
    assert response.status_code == 403
    assert "Origin" in response.json()["message"]
    assert client.post("/api/imports", headers={"Origin": origin}).status_code == 403


def test_our_own_origin_is_allowed(client: TestClient) -> None:
    for origin in (BASE_URL, f"http://localhost:{PORT}"):
        assert client.get("/api/datasets", headers={"Origin": origin}).status_code == 200


@pytest.mark.parametrize("host", ["evil.example", f"evil.example:{PORT}", "127.0.0.1:9999"])
def test_a_foreign_host_is_forbidden_against_dns_rebinding(client: TestClient, host: str) -> None:
    response = client.get("/api/datasets", headers={"Host": host})
    assert response.status_code == 403
    assert "Host" in response.json()["message"]


def test_cross_site_fetches_are_forbidden(client: TestClient) -> None:
    response = client.get("/api/datasets", headers={"Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 403


def test_a_websocket_from_another_origin_is_closed(client: TestClient) -> None:
    from starlette.websockets import WebSocketDisconnect

    with (
        pytest.raises(WebSocketDisconnect) as closed,
        client.websocket_connect("/api/anything", headers={"Origin": "http://evil.example"}),
    ):
        pass
    assert closed.value.code == 4403


def test_uploads_over_the_limit_are_refused_before_reading(client: TestClient) -> None:
    body = b"x" * 1_200_000
    response = client.post(
        "/api/imports",
        files={"file": ("EURUSD.csv", body, "text/csv")},
        data={"symbol": "EURUSD"},
    )
    assert response.status_code == 413
    assert not list((client.app.state.store.home / "staging").iterdir())  # type: ignore[attr-defined]


def test_a_file_larger_than_declared_limit_is_refused_while_copying(client: TestClient) -> None:
    # within the form's allowance for the header check, but the file itself is over the limit
    body = b"x" * 1_010_000
    response = client.post(
        "/api/imports",
        files={"file": ("EURUSD.csv", body, "text/csv")},
        data={"symbol": "EURUSD"},
    )
    assert response.status_code == 413
    assert not list((client.app.state.store.home / "staging").iterdir())  # type: ignore[attr-defined]


def test_an_upload_without_a_length_is_refused(client: TestClient) -> None:
    response = client.post("/api/imports", content=iter([b"--x\r\n"]))  # chunked, no length
    assert response.status_code == 411
