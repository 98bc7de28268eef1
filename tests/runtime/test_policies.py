"""Policies the runtime applies the same way everywhere (issue 16, items 3 to 6).

Repeated ids and repeated pages, values JSON cannot carry, outside answers too large once
decoded, the summary line's length, and what is printed before a run knows its secrets.
Peers are FakePeer (plain http.server), never the emulator.
"""

from __future__ import annotations

import gzip
import json
import logging
import math
from collections.abc import Iterator
from typing import Any, ClassVar

import httpx
import pytest
from cde_runtime import (
    ChannelClient,
    ChannelError,
    ConnectorSettings,
    ContainerApi,
    ExecutionMode,
    Mode,
    RunFailed,
    cli,
    option,
    redaction,
)
from cde_runtime.environment import RuntimeEnvironmentError, load_environment
from cde_runtime.invariants import FirstOfEachId, RepeatedPage, UnencodableData, new_pages
from cde_runtime.transport import DeadlineTransport
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from tests.runtime.fake_api import FakeApi
from tests.runtime.fake_peer import Answer, FakePeer, Request, json_answer

SECRET = "tok-5ecr3t-value"


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(redaction, "_active", redaction.Redactor())
    for name in ("NAME", "TOKEN", "LOG_LEVEL", "CDE_LOCAL_RUN", "CONTAINER_API_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CONTAINER_API_MAX_ATTEMPTS", "1")


# -- every page of an outside feed is new --------------------------------------------------------

pages_strategy = st.lists(
    st.lists(st.integers(0, 4), min_size=0, max_size=3).map(lambda ids: [{"id": i} for i in ids]),
    max_size=12,
)


@given(pages_strategy)
@settings(max_examples=200, deadline=None)
def test_a_feed_passes_exactly_when_no_page_repeats_an_earlier_one(
    pages: list[list[dict[str, Any]]],
) -> None:
    non_empty = [json.dumps(page) for page in pages if page]
    repeats = len(set(non_empty)) < len(non_empty)
    got: list[list[dict[str, Any]]] = []
    try:
        got.extend(new_pages(pages))
    except RepeatedPage:
        assert repeats
        first_repeat = next(
            index
            for index, page in enumerate(pages)
            if page and json.dumps(page) in {json.dumps(p) for p in pages[:index] if p}
        )
        assert got == pages[:first_repeat]  # every page before the repeat, not the repeat
    else:
        assert not repeats
        assert got == pages


@pytest.mark.parametrize(
    "answer_for_page",
    [
        pytest.param(lambda n: [{"id": "a"}, {"id": "b"}], id="page number ignored"),
        pytest.param(lambda n: [{"id": str(min(n, 3))}], id="page number clamped at 3"),
        pytest.param(lambda n: [{"id": str(n % 3)}], id="sequence repeating"),
    ],
)
def test_a_numbered_feed_whose_api_repeats_pages_ends_with_one_line(answer_for_page: Any) -> None:
    def route(request: Request) -> Answer:
        return json_answer({"products": answer_for_page(int(request.query["page"]))})

    def numbered(http: httpx.Client, url: str) -> Iterator[list[dict[str, Any]]]:
        number = 0
        while True:
            number += 1
            yield http.get(url, params={"page": number}).json()["products"]

    with FakePeer(route) as peer, httpx.Client() as http:
        with pytest.raises(RepeatedPage, match=r"sent page \d+ with exactly the products of page"):
            for _page in new_pages(numbered(http, peer.url)):
                pass
        assert len(peer.requests) <= 4  # stopped at the first repeat, not after 100,000 rows


def test_closing_the_page_check_closes_the_feed_behind_it() -> None:
    closed = []

    def feed() -> Iterator[list[int]]:
        try:
            yield [1]
            yield [2]
        finally:
            closed.append(True)

    pages = new_pages(feed())
    next(pages)
    pages.close()
    assert closed == [True]


# -- repeated ids within one input ----------------------------------------------------------------


@given(st.lists(st.one_of(st.none(), st.sampled_from(["", "a", "b", "c", 1, "1"])), max_size=30))
@settings(max_examples=200)
def test_each_id_passes_once_in_input_order_and_repeats_are_counted(ids: list[Any]) -> None:
    rows = [{"id": ident, "n": n} for n, ident in enumerate(ids)]
    unique = FirstOfEachId()
    out = list(unique(rows))
    keyed = [str(row["id"]) for row in out if row["id"] not in (None, "")]
    assert len(keyed) == len(set(keyed))  # each id once ("1" and 1 are one id)
    assert [row["n"] for row in out] == sorted(row["n"] for row in out)  # input order kept
    assert unique.repeated == len(rows) - len(out)
    assert {str(i) for i in ids if i not in (None, "")} == set(keyed)  # no id lost entirely


def test_repeated_ids_are_counted_per_input_not_across_inputs() -> None:
    unique = FirstOfEachId()
    assert len(list(unique([{"id": "1"}, {"id": "1"}]))) == 1
    assert len(list(unique([{"id": "1"}]))) == 1  # a new input: the id may come again
    assert unique.repeated == 1
    assert unique.examples == ["1"]


# -- values JSON cannot carry, on the channel ---------------------------------------------------


@pytest.mark.parametrize(
    ("value", "why"),
    [(math.nan, "nan"), (math.inf, "inf"), ("cut \ud83d", "lone surrogate"), (b"raw", "bytes")],
)
def test_a_channel_request_never_carries_invalid_json(value: Any, why: str) -> None:
    with (
        FakePeer(lambda _r: json_answer({"results": []})) as peer,
        ChannelClient(peer.url) as channel,
    ):
        with pytest.raises(UnencodableData, match=rf"product 'p2', column 'price': .*{why}"):
            channel.post_json(
                "/products", {"products": [{"id": "p1"}, {"id": "p2", "price": value}]}
            )
        assert peer.requests == []  # nothing went out


@pytest.mark.parametrize("url", ["http://[::1/c", "http://host:port/x", "https://[zz]/"])
def test_a_malformed_channel_url_is_one_line(url: str) -> None:
    with pytest.raises(ChannelError, match="is malformed: set a URL such as"):
        ChannelClient(url)


# -- outside answers are capped once decoded -----------------------------------------------------


def gzipped(size: int) -> Answer:
    return Answer(200, gzip.compress(b"0" * size), {"Content-Encoding": "gzip"})


def test_a_gzip_bomb_is_refused_once_it_decodes_past_the_cap() -> None:
    transport = DeadlineTransport(10, max_answer_bytes=1_000_000)
    with (
        FakePeer(lambda _r: gzipped(50_000_000)) as peer,
        httpx.Client(transport=transport) as http,
        pytest.raises(httpx.DecodingError, match="larger than 1,000,000 bytes once decoded"),
    ):
        http.get(peer.url)


@pytest.mark.parametrize("size", [0, 1, 999_999, 1_000_000])
def test_an_answer_within_the_cap_decodes_whole(size: int) -> None:
    transport = DeadlineTransport(10, max_answer_bytes=1_000_000)
    with FakePeer(lambda _r: gzipped(size)) as peer, httpx.Client(transport=transport) as http:
        assert http.get(peer.url).content == b"0" * size


def test_a_plain_answer_over_the_cap_is_refused_too() -> None:
    transport = DeadlineTransport(10, max_answer_bytes=1024)
    with (
        FakePeer(lambda _r: Answer(200, b"x" * 5000)) as peer,
        httpx.Client(transport=transport) as http,
        pytest.raises(httpx.DecodingError, match="larger than 1,024 bytes"),
    ):
        http.get(peer.url)


# -- nothing printed before the secrets are known shows a value ---------------------------------


class EnvOptions(ConnectorSettings):
    execution_mode: ClassVar[ExecutionMode] = "environment_variables"

    NAME: str = option("NAME", "input")
    TOKEN: SecretStr = option("TOKEN", "password")


class CliOptions(EnvOptions):
    execution_mode: ClassVar[ExecutionMode] = "command_line_arguments"


def nothing(_settings: Any, _api: ContainerApi) -> None:
    logging.getLogger("tests.policies").info("ran")


@pytest.mark.parametrize(
    "arguments",
    [
        ["try", "--TOKEN", SECRET],
        ["try", f"--TOKEN={SECRET}"],
        ["try", "--NAME", "x", "--TOKEN", SECRET, "--more"],
        [SECRET],
        ["try", SECRET],
    ],
)
def test_a_usage_error_never_prints_an_argument_value(
    arguments: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    mode = Mode("try", EnvOptions, nothing, "A mode made up for the tests.")
    assert cli.main({"try": mode}, arguments) == cli.EXIT_USAGE
    captured = capsys.readouterr()
    assert "usage:" in captured.err
    assert SECRET not in captured.out + captured.err
    assert "5ecr3t" not in captured.out + captured.err


def test_an_undeclared_options_dash_value_is_not_printed_as_a_name(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    api = FakeApi()
    with api.serve() as peer:
        monkeypatch.setenv("CONTAINER_API_URL", peer.url)
        mode = Mode("try", CliOptions, nothing, "A mode made up for the tests.")
        code = cli.main({"try": mode}, ["try", "--UNDECLARED", f"--{SECRET}", "--OTHER=1"])
    assert code == cli.EXIT_OK
    warning = next(line["message"] for line in api.logs if "not declared" in line["message"])
    assert "--UNDECLARED" in warning
    assert "--OTHER" in warning
    assert "1 more (not shown" in warning
    assert "5ecr3t" not in warning + capsys.readouterr().err


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("CONTAINER_API_READ_TIMEOUT", "inf"),
        ("CONTAINER_API_READ_TIMEOUT", "1e308"),
        ("CONTAINER_API_READ_TIMEOUT", "nan"),
        ("CONTAINER_API_LOG_TIMEOUT", "0"),
        ("CDE_CHANNEL_TIMEOUT", "-Infinity"),
        ("CDE_FEED_TIMEOUT", "86401"),
        ("CDE_MAX_ANSWER_BYTES", "12"),
        ("CONTAINER_API_WRITE_RETRY", "sometimes"),
        ("CONTAINER_API_URL", "http://[::1/c"),
        ("CONTAINER_API_URL", "http://host:port"),
    ],
)
def test_a_runtime_variable_that_parses_but_cannot_work_is_refused_in_one_line(
    name: str, value: str
) -> None:
    with pytest.raises(RuntimeEnvironmentError) as refused:
        load_environment({name: value})
    (line,) = str(refused.value).splitlines()
    assert line.startswith(f"Runtime variable {name}=")
    assert "expected" in line


def test_a_huge_error_is_cut_in_the_summary_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def fails(_settings: Any, _api: ContainerApi) -> None:
        raise RunFailed("the server said: " + "e" * 4_000_000)

    api = FakeApi()
    with api.serve() as peer:
        monkeypatch.setenv("CONTAINER_API_URL", peer.url)
        mode = Mode("try", EnvOptions, fails, "A mode made up for the tests.")
        assert cli.main({"try": mode}, ["try"]) == cli.EXIT_FAILED
    (line,) = capsys.readouterr().err.splitlines()
    assert len(line) < cli.MAX_SUMMARY + 100
    assert line.endswith("more characters cut]")
