"""OAuth2 for outside APIs: client credentials and refresh tokens, renewed on expiry and 401."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from cde_emulator.fake_api import Answer, Call, FakeApi
from cde_runtime import redaction
from cde_runtime.errors import RunFailed
from cde_runtime.outside import OAuth2ClientCredentials, OAuth2RefreshToken, OutsideApi


class TokenServer:
    """A token endpoint and an API that accepts only the latest token it issued."""

    def __init__(self, expires_in: int = 3600) -> None:
        self.expires_in = expires_in
        self.issued: list[str] = []
        self.grants: list[dict[str, list[str]]] = []
        self.revoked: set[str] = set()
        self.fake = FakeApi({"POST /oauth/token": self.token, "GET /orders": self.orders})

    def token(self, call: Call) -> Any:
        form = parse_qs(call.body.decode())
        self.grants.append({**form, "authorization": [call.headers.get("authorization", "")]})
        if form.get("refresh_token") == ["stale"]:
            return Answer(400, {"error": "invalid_grant", "error_description": "expired"})
        token = f"access-{len(self.issued) + 1}"
        self.issued.append(token)
        answer = {"access_token": token, "token_type": "Bearer", "expires_in": self.expires_in}
        if "refresh_token" in form:
            answer["refresh_token"] = f"rotated-{len(self.issued)}"
        return answer

    def orders(self, call: Call) -> Any:
        token = call.headers.get("authorization", "").removeprefix("Bearer ")
        if token not in self.issued or token in self.revoked:
            return Answer(401, {"message": "invalid token"})
        return {"orders": [], "token": token}


@pytest.fixture
def server() -> Iterator[TokenServer]:
    tokens = TokenServer()
    tokens.fake.start()
    yield tokens
    tokens.fake.stop()


def client(server: TokenServer, auth: httpx.Auth) -> OutsideApi:
    return OutsideApi(server.fake.url, name="Marketplace", auth=auth, backoff=0)


def test_client_credentials_fetch_one_token_and_reuse_it(server: TokenServer) -> None:
    auth = OAuth2ClientCredentials(
        f"{server.fake.url}/oauth/token", "my-id", "my-secret", scope=["orders"]
    )
    with client(server, auth) as api:
        assert api.get_json("/orders")["token"] == "access-1"
        assert api.get_json("/orders")["token"] == "access-1"
    grant = server.grants[0]
    assert grant["grant_type"] == ["client_credentials"]
    assert grant["scope"] == ["orders"]
    assert grant["authorization"] == [httpx.BasicAuth("my-id", "my-secret")._auth_header]
    assert len(server.issued) == 1


def test_the_secret_can_travel_in_the_form_instead(server: TokenServer) -> None:
    auth = OAuth2ClientCredentials(
        f"{server.fake.url}/oauth/token", "my-id", "my-secret", client_auth="body"
    )
    with client(server, auth) as api:
        api.get_json("/orders")
    assert server.grants[0]["client_secret"] == ["my-secret"]
    assert server.grants[0]["authorization"] == [""]


def test_a_token_revoked_early_is_renewed_once_on_401(server: TokenServer) -> None:
    auth = OAuth2ClientCredentials(f"{server.fake.url}/oauth/token", "id", "secret")
    with client(server, auth) as api:
        api.get_json("/orders")
        server.revoked.add("access-1")
        assert api.get_json("/orders")["token"] == "access-2"


def test_a_token_about_to_expire_is_renewed_before_it_is_used() -> None:
    tokens = TokenServer(expires_in=10)  # within EXPIRY_MARGIN: stale as soon as it arrives
    with tokens.fake:
        auth = OAuth2ClientCredentials(f"{tokens.fake.url}/oauth/token", "id", "secret")
        with client(tokens, auth) as api:
            assert api.get_json("/orders")["token"] == "access-1"
            assert api.get_json("/orders")["token"] == "access-2"
    assert auth.fetched == 2


def test_a_refresh_token_buys_access_tokens_and_rotates(server: TokenServer) -> None:
    auth = OAuth2RefreshToken(
        f"{server.fake.url}/oauth/token",
        "stored-refresh",
        client_id="id",
        option="PUP_AUTH_REFRESH_TOKEN",
    )
    with client(server, auth) as api:
        api.get_json("/orders")
        server.revoked.add("access-1")
        api.get_json("/orders")
    assert server.grants[0]["grant_type"] == ["refresh_token"]
    assert server.grants[0]["refresh_token"] == ["stored-refresh"]
    assert server.grants[1]["refresh_token"] == ["rotated-1"]


def test_a_refused_grant_is_one_line_naming_the_option(server: TokenServer) -> None:
    auth = OAuth2RefreshToken(
        f"{server.fake.url}/oauth/token", "stale", option="PUP_AUTH_REFRESH_TOKEN"
    )
    with client(server, auth) as api, pytest.raises(RunFailed) as raised:
        api.get_json("/orders")
    assert "refused the credentials (invalid_grant)" in str(raised.value)
    assert "PUP_AUTH_REFRESH_TOKEN" in str(raised.value)


def test_fetched_tokens_and_the_client_secret_are_masked(server: TokenServer) -> None:
    auth = OAuth2ClientCredentials(f"{server.fake.url}/oauth/token", "id", "client-secret-42")
    with client(server, auth) as api:
        api.get_json("/orders")
    text = redaction.redact("token access-1 and secret client-secret-42")
    assert "access-1" not in text
    assert "client-secret-42" not in text


def test_a_client_secret_a_header_cannot_carry_is_one_line_naming_the_option() -> None:
    with pytest.raises(RunFailed, match=r"^The CLIENT_SECRET option holds a character"):
        OAuth2ClientCredentials("http://127.0.0.1:9/t", "id", "sécret", option="CLIENT_SECRET")
