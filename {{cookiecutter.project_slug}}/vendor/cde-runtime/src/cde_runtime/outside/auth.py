"""Authentication for outside APIs, as `httpx.Auth` objects: pass one as `OutsideApi(auth=...)`.

- `Bearer(token)`: `Authorization: Bearer <token>`.
- `Basic(user, password)`: HTTP basic authentication.
- `ApiKeyHeader("X-Api-Key", key)`, `ApiKeyQuery("api_key", key)`: a key in a header, or in
  the query string of every request (log lines never show a query string).
- `OAuth2ClientCredentials(token_url, client_id, client_secret)`: the client-credentials
  grant; `OAuth2RefreshToken(token_url, refresh_token, ...)`: the refresh-token grant (e.g.
  from a Dev-portal authentication's PUP_AUTH_REFRESH_TOKEN). The token is fetched before the
  first request, fetched again shortly before it expires, and once more when the API answers
  401 (a token revoked early); oauthlib builds the token requests and reads their answers.

Each takes the option names its values come from (`option="SHOP_TOKEN"`), so a value that
cannot travel in an HTTP header fails the run at once with one line naming the option, and a
401 names the option to check. Values are `str` or pydantic `SecretStr` (a password option);
every token fetched is masked in logs like a password option.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Generator, Sequence
from typing import Any

import httpx
from oauthlib.oauth2 import (  # type: ignore[import-untyped]
    BackendApplicationClient,
    OAuth2Error,
    WebApplicationClient,
)
from pydantic import SecretStr

from cde_runtime import redaction
from cde_runtime.errors import RunFailed
from cde_runtime.tls import tls_context

__all__ = [
    "ApiKeyHeader",
    "ApiKeyQuery",
    "Basic",
    "Bearer",
    "OAuth2ClientCredentials",
    "OAuth2RefreshToken",
    "options_of",
]

Secret = str | SecretStr
#: A fetched token is renewed this many seconds before the expiry its answer announced.
EXPIRY_MARGIN = 30.0


def reveal(value: Secret) -> str:
    return value.get_secret_value() if isinstance(value, SecretStr) else value


def header_safe(value: Secret, option: str | None, what: str = "value") -> str:
    """The value, if a header can carry it; else RunFailed naming the option, not the value."""
    text = reveal(value)
    if all(" " <= char <= "~" for char in text):
        return text
    where = f"The {option} option" if option else f"The {what}"
    raise RunFailed(
        f"{where} holds a character an HTTP header cannot carry (outside printable ASCII: "
        "an accent, a line break, a typographic quote?): enter it exactly as the API issued it."
    )


def options_of(auth: httpx.Auth | None) -> tuple[str, ...]:
    """The option names an auth object reads its credentials from (for a 401's error line)."""
    return tuple(getattr(auth, "options", ()))


class _NoAuth(httpx.Auth):
    """No credentials on the request (the client id travels in the form instead)."""


_NO_AUTH = _NoAuth()


class _Named(httpx.Auth):
    options: tuple[str, ...] = ()

    def _named(self, *options: str | None) -> None:
        self.options = tuple(name for name in options if name)


class Bearer(_Named):
    """`Authorization: Bearer <token>` on every request; none while the token is empty (an
    optional token option left blank)."""

    def __init__(self, token: Secret, *, option: str | None = None) -> None:
        self._named(option)
        value = header_safe(token, option, "token")
        self._header = f"Bearer {value}" if value else ""

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self._header:
            request.headers["Authorization"] = self._header
        yield request


class Basic(_Named):
    """HTTP basic authentication (httpx.BasicAuth), with the option names for errors."""

    def __init__(
        self,
        user: Secret,
        password: Secret,
        *,
        user_option: str | None = None,
        option: str | None = None,
    ) -> None:
        self._named(user_option, option)
        self._basic = httpx.BasicAuth(
            header_safe(user, user_option, "user name"), header_safe(password, option, "password")
        )

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        yield from self._basic.auth_flow(request)


class ApiKeyHeader(_Named):
    """An API key in a header of every request, e.g. `ApiKeyHeader("X-Api-Key", key)`."""

    def __init__(self, header: str, key: Secret, *, option: str | None = None) -> None:
        self._named(option)
        self.header = header
        self._key = header_safe(key, option, "API key")

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers[self.header] = self._key
        yield request


class ApiKeyQuery(_Named):
    """An API key in the query string of every request, e.g. `ApiKeyQuery("api_key", key)`."""

    def __init__(self, parameter: str, key: Secret, *, option: str | None = None) -> None:
        self._named(option)
        self.parameter = parameter
        self._key = reveal(key)
        redaction.register([self._key])

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.url = request.url.copy_merge_params({self.parameter: self._key})
        yield request


class _OAuth2(_Named):
    """A bearer token from an OAuth2 token endpoint, renewed before expiry and after a 401."""

    def __init__(
        self,
        token_url: str,
        client_id: Secret,
        client_secret: Secret,
        *,
        scope: Sequence[str] = (),
        client_auth: str = "basic",
        options: Sequence[str | None] = (),
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if client_auth not in ("basic", "body"):
            raise ValueError(f"client_auth is 'basic' or 'body', not {client_auth!r}")
        self._named(*options)
        self.token_url = token_url
        self.scope = list(scope)
        self.client_auth = client_auth
        self._client_id = reveal(client_id)
        self._client_secret = reveal(client_secret)
        if self._client_secret:
            redaction.register([self._client_secret])
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = threading.Lock()
        self._http = httpx.Client(timeout=timeout, transport=transport, verify=tls_context())
        #: Tokens fetched so far (a test reads it; a long run renews a few times).
        self.fetched = 0

    def _grant_body(self) -> str:
        raise NotImplementedError

    def _client(self) -> BackendApplicationClient | WebApplicationClient:
        raise NotImplementedError

    def _fetch(self) -> str:
        """Ask the token endpoint for a token; RunFailed naming the options when it refuses."""
        client = self._client()
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
        }
        auth: httpx.Auth = _NO_AUTH
        if self.client_auth == "basic" and self._client_secret:
            auth = httpx.BasicAuth(self._client_id, self._client_secret)
        check = ", ".join(self.options) or "the credentials"
        try:
            response = self._http.post(
                self.token_url, content=self._grant_body(), headers=headers, auth=auth
            )
            token: dict[str, Any] = client.parse_request_body_response(response.text)
        except httpx.HTTPError as error:
            raise RunFailed(
                f"Could not reach the token endpoint {_origin(self.token_url)}: "
                f"{type(error).__name__}"
            ) from error
        except OAuth2Error as error:
            raise RunFailed(
                f"The token endpoint {_origin(self.token_url)} refused the credentials "
                f"({error.error}); check {check}."
            ) from error
        except ValueError as error:
            raise RunFailed(
                f"The token endpoint {_origin(self.token_url)} answered "
                f"{response.status_code} without a token; check {check} and the token URL."
            ) from error
        access = str(token["access_token"])
        redaction.register([access])
        self._renewed(token)
        expires_in = token.get("expires_in")
        self._expires_at = (
            time.monotonic() + max(0.0, float(expires_in) - EXPIRY_MARGIN)
            if expires_in is not None
            else float("inf")
        )
        self.fetched += 1
        return access

    def _renewed(self, token: dict[str, Any]) -> None:
        """Hook: keep what a token answer carries besides the token (a rotated refresh token)."""

    def _current(self, stale: str | None = None) -> str:
        """A valid token; a new one if it expired or is `stale` (refused with a 401)."""
        with self._lock:
            if self._token is None or self._token == stale or time.monotonic() >= self._expires_at:
                self._token = self._fetch()
            return self._token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        token = self._current()
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code == 401:  # revoked before its announced expiry: once more
            request.headers["Authorization"] = f"Bearer {self._current(stale=token)}"
            yield request

    def close(self) -> None:
        self._http.close()


class OAuth2ClientCredentials(_OAuth2):
    """The OAuth2 client-credentials grant (RFC 6749, section 4.4).

    `client_auth="basic"` (the default) sends the client id and secret as HTTP basic
    authentication, as the RFC recommends; `client_auth="body"` sends them as form fields.
    """

    def __init__(
        self,
        token_url: str,
        client_id: Secret,
        client_secret: Secret,
        *,
        scope: Sequence[str] = (),
        client_auth: str = "basic",
        id_option: str | None = None,
        option: str | None = None,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        header_safe(client_id, id_option, "client id")
        header_safe(client_secret, option, "client secret")
        super().__init__(
            token_url,
            client_id,
            client_secret,
            scope=scope,
            client_auth=client_auth,
            options=(id_option, option),
            timeout=timeout,
            transport=transport,
        )

    def _client(self) -> BackendApplicationClient:
        return BackendApplicationClient(self._client_id)

    def _grant_body(self) -> str:
        extra = (
            {"client_id": self._client_id, "client_secret": self._client_secret}
            if self.client_auth == "body"
            else {}
        )
        body: str = self._client().prepare_request_body(scope=self.scope or None, **extra)
        return body


class OAuth2RefreshToken(_OAuth2):
    """The OAuth2 refresh-token grant (RFC 6749, section 6): a stored refresh token buys access
    tokens.

    A token answer that carries a new refresh token replaces the old one for the rest of the run.
    """

    def __init__(
        self,
        token_url: str,
        refresh_token: Secret,
        *,
        client_id: Secret = "",
        client_secret: Secret = "",
        scope: Sequence[str] = (),
        client_auth: str = "basic",
        option: str | None = None,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._refresh = header_safe(refresh_token, option, "refresh token")
        redaction.register([self._refresh])
        super().__init__(
            token_url,
            client_id,
            client_secret,
            scope=scope,
            client_auth=client_auth,
            options=(option,),
            timeout=timeout,
            transport=transport,
        )

    def _client(self) -> WebApplicationClient:
        return WebApplicationClient(self._client_id)

    def _grant_body(self) -> str:
        extra: dict[str, str] = {}
        if self.client_auth == "body" or not self._client_secret:
            extra = {"client_id": self._client_id} if self._client_id else {}
            if self._client_secret:
                extra["client_secret"] = self._client_secret
        body: str = self._client().prepare_refresh_body(
            refresh_token=self._refresh, scope=self.scope or None, **extra
        )
        return body

    def _renewed(self, token: dict[str, Any]) -> None:
        rotated = token.get("refresh_token")
        if isinstance(rotated, str) and rotated:
            redaction.register([rotated])
            self._refresh = rotated


def _origin(url: str) -> str:
    parsed = httpx.URL(url)
    return f"{parsed.scheme}://{parsed.host}{parsed.path}"
