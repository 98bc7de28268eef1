"""The outside-API toolkit (cde_runtime.outside) against fake APIs on local ports."""

from __future__ import annotations

import gzip
import json
import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from cde_emulator import Fault
from cde_emulator.fake_api import Answer, Call, FakeApi
from cde_runtime.errors import RunFailed
from cde_runtime.outside import (
    ApiKeyHeader,
    ApiKeyQuery,
    Basic,
    Bearer,
    Cursor,
    LinkHeader,
    NextLink,
    OffsetLimit,
    OutsideApi,
    OutsideApiError,
    PageNumber,
    Quota,
    wait_for,
)

PRODUCTS = [{"id": str(n)} for n in range(1, 12)]  # 11: pages of 3 end with a short one


@pytest.fixture
def fake() -> Iterator[Any]:
    started: list[FakeApi] = []

    def start(routes: dict[str, Any], faults: list[Fault] | None = None) -> FakeApi:
        api = FakeApi(routes, faults=faults or []).start()
        started.append(api)
        return api

    yield start
    for api in started:
        api.stop()


def api_for(fake_api: FakeApi, **kwargs: Any) -> OutsideApi:
    kwargs.setdefault("backoff", 0)
    return OutsideApi(fake_api.url, name="Shop API", **kwargs)


def page_of(number: int, size: int = 3) -> list[dict[str, str]]:
    return PRODUCTS[(number - 1) * size : number * size]


# -- pagination ------------------------------------------------------------------------------


def link_header_pages(call: Call) -> Answer:
    page = int(call.arg("page", "1") or 1)
    more = page * 3 < len(PRODUCTS)
    link = {"Link": f'</products?page={page + 1}>; rel="next"'} if more else {}
    return Answer(200, {"products": page_of(page)}, link)


def next_link_pages(call: Call) -> Any:
    page = int(call.arg("page", "1") or 1)
    more = page * 3 < len(PRODUCTS)
    return {"products": page_of(page), "links": {"next": f"?page={page + 1}" if more else None}}


def cursor_pages(call: Call) -> Any:
    page = int(call.arg("cursor", "1") or 1)
    more = page * 3 < len(PRODUCTS)
    return {"data": page_of(page), "next_cursor": str(page + 1) if more else ""}


def offset_pages(call: Call) -> Any:
    offset, limit = int(call.arg("offset") or 0), int(call.arg("limit") or 0)
    return PRODUCTS[offset : offset + limit]


def numbered_pages(call: Call) -> Any:
    return {"items": page_of(int(call.arg("page") or 0))}


STRATEGIES = {
    "link-header": (link_header_pages, LinkHeader(), "products"),
    "next-link": (next_link_pages, NextLink("links.next"), "products"),
    "cursor": (cursor_pages, Cursor("cursor", "next_cursor"), "data"),
    "offset": (offset_pages, OffsetLimit(limit=3), ""),
    "numbered": (numbered_pages, PageNumber("page"), "items"),
}


@pytest.mark.parametrize("name", STRATEGIES)
def test_every_pagination_strategy_reads_every_item_once_and_ends(fake: Any, name: str) -> None:
    route, strategy, items = STRATEGIES[name]
    server = fake({"GET /products": route})
    with api_for(server) as api:
        pages = list(api.pages("/products", pagination=strategy, items=items))
    assert [item["id"] for page in pages for item in page] == [p["id"] for p in PRODUCTS]
    assert [len(page) for page in pages] == [3, 3, 3, 2]


def test_a_query_in_the_path_is_kept_with_the_strategy_s_parameters(fake: Any) -> None:
    server = fake({"GET /products": numbered_pages})
    with api_for(server) as api:
        list(api.pages("/products?lang=de", pagination=PageNumber(), items="items"))
    assert {call.arg("lang") for call in server.calls} == {"de"}
    assert [call.arg("page") for call in server.calls] == ["1", "2", "3", "4", "5"]


def test_an_api_that_clamps_the_page_number_ends_the_run_instead_of_looping(fake: Any) -> None:
    server = fake({"GET /products": lambda call: {"items": page_of(1)}})
    with api_for(server) as api, pytest.raises(OutsideApiError, match="same page twice"):
        list(api.pages("/products", pagination=PageNumber(), items="items"))
    assert len(server.calls) == 2


def test_a_next_link_back_to_an_earlier_page_ends_the_run(fake: Any) -> None:
    server = fake({"GET /products": lambda call: {"products": [], "next": "/products"}})
    with api_for(server) as api, pytest.raises(OutsideApiError, match="loop"):
        list(api.pages("/products", items="products"))


def test_a_repeating_cursor_ends_the_run(fake: Any) -> None:
    def route(call: Call) -> Any:
        return {"data": [{"id": call.arg("cursor")}], "next_cursor": "same"}

    server = fake({"GET /products": route})
    with api_for(server) as api, pytest.raises(OutsideApiError, match="loop"):
        list(api.pages("/products", pagination=Cursor(), items="data"))
    assert len(server.calls) == 2


def test_a_link_header_the_strategy_ignores_gives_one_warning(
    fake: Any, caplog: pytest.LogCaptureFixture
) -> None:
    server = fake({"GET /products": link_header_pages})
    with caplog.at_level(logging.WARNING), api_for(server) as api:
        pages = list(api.pages("/products", pagination=NextLink(), items="products"))
    assert len(pages) == 1  # the body names no next page: the strategy ends after page 1
    warnings = [r.getMessage() for r in caplog.records if "Link" in r.getMessage()]
    assert len(warnings) == 1
    assert "pagination=LinkHeader()" in warnings[0]


def test_no_warning_when_the_strategy_follows_the_link_header(
    fake: Any, caplog: pytest.LogCaptureFixture
) -> None:
    server = fake({"GET /products": link_header_pages})
    with caplog.at_level(logging.WARNING), api_for(server) as api:
        list(api.pages("/products", pagination=LinkHeader(), items="products"))
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_a_next_link_to_another_host_is_not_followed_with_the_credentials(fake: Any) -> None:
    server = fake({"GET /products": {"products": [{"id": "1"}], "next": "http://localhost:9/x"}})
    with api_for(server, auth=Bearer("t")) as api, pytest.raises(OutsideApiError, match="host"):
        list(api.pages("/products", items="products"))
    assert len(server.calls) == 1


def test_a_page_without_its_items_list_is_one_line_naming_the_field(fake: Any) -> None:
    server = fake({"GET /products": {"data": []}})
    with api_for(server) as api, pytest.raises(OutsideApiError, match='"products"'):
        list(api.pages("/products", items="products"))


# -- methods, retries and errors -------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE"])
def test_every_method_sends_its_json_body_and_reads_the_answer(fake: Any, method: str) -> None:
    server = fake({f"{method} /things": lambda call: {"got": call.json()}})
    body = None if method == "GET" else {"ids": ["a", "b"]}
    with api_for(server) as api:
        if method == "GET":
            answer = api.get_json("/things")
        else:
            send = getattr(api, f"{method.lower()}_json")
            answer = send("/things", body)
    assert answer == {"got": body}
    assert server.calls[0].method == method


@pytest.mark.parametrize(
    ("method", "idempotent", "fault", "tries"),
    [
        ("GET", None, "502", 2),  # a gateway error: a read is simply asked for again
        ("GET", None, "drop", 2),
        ("POST", True, "502", 2),  # a lookup sent as POST, declared idempotent
        ("POST", None, "503,retry-after=0", 2),  # 503: not processed, even a delivery retries
        ("POST", None, "429,retry-after=0", 2),
        ("POST", None, "502", 1),  # a delivery after a gateway error: maybe processed
        ("POST", None, "drop", 1),
        ("PATCH", None, "drop", 1),
        ("PUT", None, "drop", 2),  # PUT is idempotent by definition
    ],
)
def test_retries_are_decided_by_idempotency(
    fake: Any, method: str, idempotent: bool | None, fault: str, tries: int
) -> None:
    server = fake({f"{method} /x": {"ok": True}}, [Fault("channel", 1, fault)])
    with api_for(server) as api:
        if tries == 1:
            with pytest.raises(OutsideApiError):
                api.request(method, "/x", json={}, idempotent=idempotent)
        else:
            assert api.request(method, "/x", json={}, idempotent=idempotent).json() == {"ok": True}
    assert api.requests == tries
    assert len(server.calls) == tries - 1  # a faulted request never reaches the routes


def test_a_delivery_that_may_have_been_processed_says_why_it_is_not_sent_again(
    fake: Any,
) -> None:
    server = fake({"POST /x": {}}, [Fault("channel", 1, "drop")])
    with api_for(server) as api, pytest.raises(OutsideApiError, match="not sent again"):
        api.post_json("/x", {})


def test_retry_after_sets_the_wait(fake: Any) -> None:
    waits: list[float] = []
    server = fake({"GET /x": {}}, [Fault("channel", 1, "503,retry-after=7")])
    with api_for(server, sleep=waits.append) as api:
        api.get_json("/x")
    assert waits == [7.0]


def test_out_of_tries_is_one_line_with_the_last_answer_once(fake: Any) -> None:
    server = fake({"GET /x": {}}, [Fault("channel", 1, "503,retry-after=0", repeat=True)])
    with api_for(server, attempts=2) as api, pytest.raises(OutsideApiError) as raised:
        api.get_json("/x?key=secret-in-query")
    message = str(raised.value)
    assert message.count("answered 503") == 1
    assert "Shop API GET /x" in message
    assert "secret-in-query" not in message
    assert "\n" not in message


def test_a_401_names_the_option_holding_the_credentials(fake: Any) -> None:
    server = fake({"GET /x": Answer(401, {"message": "bad token"})})
    auth = Bearer("t", option="SHOP_TOKEN")
    with api_for(server, auth=auth) as api, pytest.raises(OutsideApiError, match="SHOP_TOKEN"):
        api.get_json("/x")


@pytest.mark.parametrize("url", ["value", "", "ftp://x", "http://[::1/c"])
def test_a_bad_base_url_is_one_line_naming_the_option(url: str) -> None:
    with pytest.raises(RunFailed, match="The SHOP_URL option must be an http"):
        OutsideApi(url, option="SHOP_URL")


# -- authentication --------------------------------------------------------------------------


def test_each_auth_puts_its_credential_where_the_api_reads_it(fake: Any) -> None:
    server = fake({"GET /x": {}})
    for auth in (
        Bearer("tok"),
        Basic("user", "pw"),
        ApiKeyHeader("X-Api-Key", "k1"),
        ApiKeyQuery("api_key", "k2"),
    ):
        with api_for(server, auth=auth) as api:
            api.get_json("/x")
    bearer, basic, header, query = server.calls
    assert bearer.headers["authorization"] == "Bearer tok"
    assert basic.headers["authorization"] == httpx.BasicAuth("user", "pw")._auth_header
    assert header.headers["x-api-key"] == "k1"
    assert query.arg("api_key") == "k2"


@pytest.mark.parametrize("token", ["tökén", "line\nbreak", "“quoted”"])
def test_a_secret_a_header_cannot_carry_is_one_line_naming_the_option(token: str) -> None:
    with pytest.raises(RunFailed) as raised:
        Bearer(token, option="SHOP_TOKEN")
    assert str(raised.value).startswith("The SHOP_TOKEN option holds a character")
    assert token not in str(raised.value)


# -- quotas ----------------------------------------------------------------------------------


def test_a_quota_is_never_exceeded_in_any_window_by_requests_in_flight(fake: Any) -> None:
    arrivals: list[float] = []
    lock = threading.Lock()

    def route(call: Call) -> Any:
        with lock:
            arrivals.append(time.monotonic())
        time.sleep(0.01)
        return {}

    server = fake({"GET /x": route})
    quota = Quota(4, per=0.2)
    with api_for(server, quota=quota, concurrency=6) as api:
        list(api.send_all(range(14), lambda n: api.get_json("/x")))
    arrivals.sort()
    assert len(arrivals) == 14
    for start in arrivals:
        in_window = [t for t in arrivals if start <= t < start + quota.per]
        assert len(in_window) <= 4, f"{len(in_window)} requests within one window"


def test_a_429_with_retry_after_pauses_the_quota_every_request_shares(fake: Any) -> None:
    paused: list[float] = []

    class Recording(Quota):
        def pause(self, seconds: float) -> None:
            paused.append(seconds)
            super().pause(seconds)

    server = fake({"GET /x": {}}, [Fault("channel", 1, "429,retry-after=0")])
    with api_for(server, quota=Recording(100), sleep=lambda seconds: None) as api:
        api.get_json("/x")
    assert paused == []  # Retry-After: 0 asks for no pause
    server = fake({"GET /x": {}}, [Fault("channel", 1, "429,retry-after=3")])
    with api_for(server, quota=Recording(100), sleep=lambda seconds: None) as api:
        api.get_json("/x")
    assert paused == [3.0]


def test_no_request_starts_while_the_quota_is_paused() -> None:
    quota = Quota(100)
    before = time.monotonic()
    quota.pause(0.2)
    quota.acquire()
    assert time.monotonic() >= before + 0.2  # never before the pause ends
    quota.release()


# -- jobs and streaming ----------------------------------------------------------------------


def test_wait_for_polls_with_growing_pauses_until_done() -> None:
    answers = iter([None, None, {"done": True}])
    pauses: list[float] = []
    assert wait_for(lambda: next(answers), deadline=60, first=0.5, sleep=pauses.append) == {
        "done": True
    }
    assert pauses == [0.5, 1.0]


def test_wait_for_ends_the_run_at_the_deadline() -> None:
    with pytest.raises(RunFailed, match=r"bulk job did not finish within 0\.05 s"):
        wait_for(lambda: None, deadline=0.05, first=0.01, what="the bulk job")


XML = b"".join(
    [b'<?xml version="1.0"?><feed xmlns="urn:shop">']
    + [
        b'<item id="%d"><title>T%d</title><tag>a</tag><tag>b</tag></item>' % (n, n)
        for n in range(5)
    ]
    + [b"</feed>"]
)


@pytest.mark.parametrize(
    ("answer", "format", "item", "ids"),
    [
        (Answer(200, PRODUCTS), "json", "item", [p["id"] for p in PRODUCTS]),
        (Answer(200, {"products": PRODUCTS}), "json", "products.item", [p["id"] for p in PRODUCTS]),
        (
            Answer(
                200, gzip.compress(json.dumps(PRODUCTS).encode()), content_type="application/gzip"
            ),
            "json",
            "item",
            [p["id"] for p in PRODUCTS],
        ),
        (
            Answer(
                200, b"".join(json.dumps(p).encode() + b"\n" for p in PRODUCTS), content_type="x"
            ),
            "jsonl",
            "",
            [p["id"] for p in PRODUCTS],
        ),
        (Answer(200, gzip.compress(XML), content_type="application/gzip"), "xml", "item", None),
    ],
    ids=["json", "json-nested", "json-gz", "jsonl", "xml-gz"],
)
def test_stream_items_parses_large_answers_as_they_arrive(
    fake: Any, answer: Answer, format: Any, item: str, ids: list[str] | None
) -> None:
    server = fake({"GET /export": answer})
    with api_for(server) as api:
        got = list(api.stream_items("/export", format=format, item=item))
    if ids is None:
        assert [g["@id"] for g in got] == [str(n) for n in range(5)]
        assert got[0] == {"@id": "0", "title": "T0", "tag": ["a", "b"]}
    else:
        assert [g["id"] for g in got] == ids


def test_hostile_xml_is_refused_not_expanded(fake: Any) -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><r><item>&b;</item></r>'
    )
    server = fake({"GET /x": Answer(200, bomb, content_type="application/xml")})
    with api_for(server) as api, pytest.raises(OutsideApiError, match="not valid XML"):
        list(api.stream_items("/x", format="xml", item="item"))


def test_a_stream_that_breaks_off_is_read_again_without_repeating_items(fake: Any) -> None:
    body = b"".join(json.dumps(p).encode() + b"\n" for p in PRODUCTS)
    server = fake({"GET /x": Answer(200, body, content_type="x")}, [Fault("channel", 1, "cut")])
    with api_for(server) as api:
        got = list(api.stream_items("/x", format="jsonl"))
    assert [g["id"] for g in got] == [p["id"] for p in PRODUCTS]
    assert len(server.calls) == 2
