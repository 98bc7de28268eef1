"""The fault matrix: every mode of this connector, under every fault, on every call it makes.

A cell is (mode, call kind, fault, once or always). The call kinds are those the mode really
makes, counted on a fault-free run of it against the emulator (the baseline): read, count, write,
close, log, channel, feed (cde_emulator/faults.py names them). The faults are the emulator's
actions in FAULTS, injected into the middle call of the kind: "once" hits that call only, "always"
that call and every later one of its kind. Each cell runs the mode against a fresh emulator with
a canary value in every password option (and credentials in the Container API URL), then checks:

- the exit code, from the rules below (`expected_exit`);
- the baseline itself: exit 0, nothing on stderr, and every row it read from the Container API
  or the emulator's product feed arrives (in output or at the channel);
- stderr: on failure exactly one `Run failed: ...` line naming the failed call, and nothing else
  (no traceback: these failures are all expected ones); on success nothing, except log lines the
  Container API did not take (a log fault);
- rows out equal rows in, or the run fails: a run that exits 0 wrote exactly the baseline's
  output and feedback and delivered exactly the baseline's products to the channel; a failed run
  wrote nothing the baseline did not;
- no duplicate rows: no id twice in output, feedback or channel deliveries, whatever the fault
  (a `cut` write was stored by the server but looked lost to the client: it must not be resent);
- feedback for every delivered product: every product whose channel answer reached the run has
  its feedback row (as the feedback settings ask), even when the run then fails, unless writing
  feedback is what failed;
- no log line lost: lines the Container API did not take are on stderr;
- the canary, in every form it can take (raw, escaped, URL-encoded, base64), appears nowhere the
  run wrote: stdout, stderr, and every file under the emulator's out dir (logs, output, feedback,
  channel records).

Rules (`expected_exit`): logging never fails a run. A once-fault is survived where the runtime
retries the call for that answer (RETRIED): 429 and 503 (sent with `Retry-After: 0`) on every
call; on a count and a feed page, which move no cursor, also 502 and a dropped, cut or timed-out
answer; and a 400 on the first call on the input type `input` (the runtime then reads the
deprecated `full`).
Every other once-fault fails the run, and so does every fault that persists.

Pruned cells (`cells`, FAULTS): "always" runs only where the once-fault is retried (elsewhere the
run ends at the first hit, so the repeat changes nothing). `empty` and `null` (an input ending
early) and 404 ("not provided", a contradiction after the count) exist only for reads: on a
count a 404 is the platform saying the run has no such stream, which the modes read as an empty
stream by contract, and only reads answer with a `data` list. A feed page gets `null` (no
products list, which fails the run) but not `empty`: a feed that says nothing of its size cannot
tell an empty page from its end (if yours sends a total, compare it in your handler). 502 is run
where it is retried (count, feed) and on the channel; elsewhere it is the same as 500. `close`
has cells only for a mode that closes an output (the example modes do not: the platform closes
them).

How a mode is pointed at the emulator: the `local_run_for` fixture (cde_runtime/testing.py) gives
each option a value for a local run, and the matrix then puts the canary in every password
option. If your options need other values, override that fixture in tests/conftest.py (your
file) rather than editing this one, so template updates apply cleanly.

Cells run in this process (`cli.main`, the same entry point as `python main.py`) to stay fast;
`test_a_subprocess_run_matches_the_in_process_run` proves both give the same result.
Run only the matrix: `pytest tests -k fault_matrix` (`-k timeout`, `-k "429"`, ...).
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import httpx
import pytest

from cde_emulator import Emulator, Fault
from cde_runtime import channel_client, cli, fetching, redaction
from cde_runtime.channel_client import MAX_REJECTED_SHARE
from cde_runtime.mode import Mode
from cde_runtime.testing.fixtures import (
    PROJECT_ROOT,
    LocalRun,
    LocalRunFactory,
    declared_option_names,
    pass_options,
    project_modes,
)

MODES = project_modes()

# -- the matrix --------------------------------------------------------------------------------

#: The call kinds of the matrix (cde_emulator/faults.py counts requests by these).
CALL_KINDS = ("read", "count", "write", "close", "log", "channel", "feed")
EVERY_KIND = CALL_KINDS
#: Fault actions (cde_emulator/faults.py), each with the call kinds where it means something.
FAULTS = {
    "400": EVERY_KIND,  # a 4xx: the request is refused
    "404": ("read",),  # "not provided": on a read after the count, a contradiction
    "413": EVERY_KIND,  # oversize: a proxy's body limit
    "429,retry-after=0": EVERY_KIND,  # too many requests, come back (at once)
    "500": EVERY_KIND,  # a 5xx: the server failed
    "502": ("count", "channel", "feed"),  # a gateway error: retried only where no cursor moves
    "503,retry-after=0": EVERY_KIND,  # unavailable, come back (at once)
    "204": EVERY_KIND,  # no content, no body
    "204body": EVERY_KIND,  # no content, but a body anyway (a broken proxy)
    "drop": EVERY_KIND,  # the connection closes without an answer
    "cut": EVERY_KIND,  # the request was handled, the answer breaks off half-way
    "timeout": EVERY_KIND,  # no answer in time
    "malformed": EVERY_KIND,  # 200 with a body that is not JSON
    "empty": ("read",),  # `data: []` part-way: the input ends early
    "null": ("read", "feed"),  # `data: null` part-way (a feed page without its products list)
}

#: Once-faults the runtime retries, per call kind (cde_runtime/container_api/client.py and
#: cde_runtime/channel_client.py say why each call retries what it does).
RETRIED = {
    "read": {"429", "503"},
    "write": {"429", "503"},
    "close": {"429", "503"},
    "log": {"429", "503"},
    "count": {"429", "502", "503", "drop", "cut", "timeout"},
    "channel": {"429", "503"},
    # A GET moves no cursor: everything that may pass is tried again (cde_runtime/fetching.py).
    "feed": {"429", "502", "503", "drop", "cut", "timeout"},
}


def survives_once(kind: str, fault: str, reads_input: bool) -> bool:
    """Whether the run gets past a once-fault on this call by trying it again."""
    status = fault.partition(",")[0]
    # The first call on `input` decides what the API calls it: one that refuses `input` is
    # read as an older API, and the call is made again on `full`.
    fallback = kind == "count" and status == "400" and reads_input
    return status in RETRIED[kind] or fallback


def cells(kind: str, fault: str, reads_input: bool) -> list[bool]:
    """The persistences to run for a fault on a call kind: [False] is once, [True] always.

    A once-fault the run does not retry ends the run at that call (or, for a log line, sends
    the lines of the next 30 seconds to stderr without trying the API again), so the fault
    repeated changes nothing: "always" is run only where the once-fault is retried, to show
    that the run still ends cleanly when the fault does not pass.
    """
    if kind not in FAULTS[fault]:
        return []
    return [False, True] if survives_once(kind, fault, reads_input) else [False]


def expected_exit(kind: str, fault: str, always: bool, reads_input: bool) -> int:
    """The exit code a cell must end with (see "Rules" above)."""
    if kind == "log":
        return 0  # logging never fails a run: what the API does not take goes to stderr
    return 0 if not always and survives_once(kind, fault, reads_input) else 1


#: What the one failure line names, per call kind.
NAMED_IN_FAILURE = {
    "read": "/input/",
    "count": "/items/",
    "write": "/output/",
    "close": "/output/",
    "channel": "Channel",
    "feed": "product feed",
}

# -- what every cell runs with -------------------------------------------------------------------

#: In every password option: quotes, a percent sign, a backslash, base64 and URL specials, so
#: each encoding of it differs from the raw value.
CANARY = "canary-Pa55'w\"0rd%/+=\\x"
URL_CANARY = "url-canary-7a0c91f3"
#: Seconds a `timeout` fault makes the run wait, per attempt: a local answer takes a few ms, so
#: only a faulted call reaches it, even on a busy machine. Set for the faulted side only.
TIMEOUT_SECONDS = 0.25
RUNTIME = {
    "CDE_LOCAL_RUN": "1",
    "CONTAINER_API_MAX_ATTEMPTS": "2",  # one retry is enough to survive a once-fault
    "CONTAINER_API_BACKOFF": "0",
    "LOG_LEVEL": "info",
}
# The export settings' module holds these constants (connector/settings.py).
_settings = [sys.modules[mode.settings.__module__] for mode in MODES.values()]
DELTA_KEY: str = next((m.DELTA_KEY for m in _settings if hasattr(m, "DELTA_KEY")), "id")
FEEDBACK_FILE: bool = any(getattr(m, "FEEDBACK_FILE", False) for m in _settings)
FEEDBACK_SUCCESSES: bool = any(getattr(m, "FEEDBACK_SUCCESSES", False) for m in _settings)


def products(prefix: str, count: int, untitled: int = 0) -> list[dict[str, str]]:
    """Rows with an id (and the delta key); the first `untitled` have no title, which the
    channel stand-in rejects, so every run has feedback to write."""
    rows = []
    for n in range(1, count + 1):
        row = {"id": f"{prefix}{n}", "title": "" if n <= untitled else f"Product {n}"}
        rows.append({**row, DELTA_KEY: row["id"], "price": "9.99"})
    return rows


# One rejected product in 21 sent stays under the failure policy's MAX_REJECTED_SHARE (5 %).
STREAMS = {
    "input": products("P", 21, untitled=1),
    "new": products("N", 8, untitled=1),
    "modified": products("M", 7),
    "deleted": products("D", 6),
    "unchanged": products("U", 2),
}
assert MAX_REJECTED_SHARE >= 1 / 21, "one rejection in 21 must stay within the failure policy"
#: The products of the emulator's product feed stand-in, FEED_PAGE_SIZE a page.
FEED = products("F", 21)
FEED_PAGE_SIZE = 5


def canary_forms() -> set[str]:
    """Every form the canaries can take in text the run writes."""
    forms = set()
    for secret in (CANARY, URL_CANARY):
        escaped = {secret, json.dumps(secret)[1:-1], repr(secret)[1:-1], ascii(secret)[1:-1]}
        forms |= escaped | {quote(s, safe="") for s in escaped} | {quote_plus(s) for s in escaped}
        forms |= redaction.encodings(secret)  # the base64 cores, among others
        basic = base64.b64encode(f"matrix:{secret}".encode()).decode()
        forms.add(basic)
    return forms


CANARY_FORMS = canary_forms()


def local_options(
    local_run_for: LocalRunFactory, mode: Mode[Any], emu_url: str
) -> tuple[dict[str, str], dict[str, Any]]:
    """The options of a local run of `mode` (the `local_run_for` fixture's), with the canary
    in every password option, and the handler-module attributes to set."""
    local = local_run_for(mode, emu_url)
    options = dict(local.options)
    for option in mode.settings.options():
        if option.field_type == "password":
            options[option.name] = CANARY
    return options, dict(local.patches)


# -- running one cell ----------------------------------------------------------------------------


@dataclass
class Observed:
    """What a run left behind."""

    code: int
    out: str
    err: str
    output: list[dict[str, Any]]
    feedback: list[dict[str, Any]]
    channel: list[dict[str, Any]]
    logs: list[dict[str, Any]]
    written: dict[str, str] = field(default_factory=dict)  # every file under the out dir
    served: dict[str, int] = field(default_factory=dict)  # rows served per input type
    calls: dict[str, int] = field(default_factory=dict)  # requests per call kind


def observe(emu: Emulator, code: int, out: str, err: str) -> Observed:
    calls = {kind: emu.fault_plan.count(kind) for kind in CALL_KINDS}
    served = dict(emu.state.rows_served)
    if emu.state.feed["products"]:
        served["feed"] = emu.state.feed["products"]
    emu.stop()
    written = {
        str(path.relative_to(emu.out_dir)): path.read_text(encoding="utf-8", errors="replace")
        for path in sorted(emu.out_dir.rglob("*"))
        if path.is_file()
    }
    return Observed(
        code,
        out,
        err,
        output=emu.output_rows("output"),
        feedback=emu.output_rows("feedback"),
        channel=emu.channel_calls(),
        logs=emu.logs(),
        written=written,
        served=served,
        calls=calls,
    )


def start_emulator(root: Path, faults: list[Fault]) -> Emulator:
    data = root / "data"
    if not data.is_dir():
        data.mkdir(parents=True)
        for name, rows in {**STREAMS, "feed": FEED}.items():
            lines = "".join(json.dumps(row) + "\n" for row in rows)
            (data / f"{name}.jsonl").write_text(lines, encoding="utf-8")
    out = root / f"out-{len(list(root.glob('out-*'))) + 1}"
    feed = data / "feed.jsonl"
    return Emulator(data, out, faults=faults, feed=feed, feed_page_size=FEED_PAGE_SIZE).start()


def api_url(emu: Emulator) -> str:
    """The emulator's URL with credentials in it: they must be masked wherever a URL shows."""
    return emu.url.replace("://", f"://matrix:{URL_CANARY}@")


@contextmanager
def timeouts(faults: list[Fault], handler: Any) -> Iterator[dict[str, str]]:
    """A short read timeout where a `timeout` fault is injected: the channel's (a constant of
    cde_runtime/channel_client.py), the feed's (the handler module's FEED_TIMEOUT) or the
    Container API's (a runtime variable)."""
    timed_out = {fault.kind for fault in faults if fault.action == "timeout"}
    short = httpx.Timeout(60.0, read=TIMEOUT_SECONDS)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(fetching, "BACKOFF", 0)  # as CONTAINER_API_BACKOFF=0 for the Container API
        if "channel" in timed_out:
            patch.setattr(channel_client, "TIMEOUT", short)
        if "feed" in timed_out and hasattr(handler, "FEED_TIMEOUT"):
            patch.setattr(handler, "FEED_TIMEOUT", short)
        api_timed_out = bool(timed_out - {"channel", "feed"})
        yield {"CONTAINER_API_READ_TIMEOUT": str(TIMEOUT_SECONDS)} if api_timed_out else {}


def run_in_process(
    mode: Mode[Any],
    root: Path,
    faults: list[Fault],
    capsys: pytest.CaptureFixture[str],
    local_run_for: LocalRunFactory,
) -> Observed:
    """Run `mode` as `python main.py <mode>` would, in this process."""
    emu = start_emulator(root, faults)
    options, patches = local_options(local_run_for, mode, emu.url)
    handler = sys.modules[mode.run.__module__]
    with pytest.MonkeyPatch.context() as patch, timeouts(faults, handler) as timeout_env:
        for name in declared_option_names() | set(RUNTIME) | {"CONTAINER_API_READ_TIMEOUT"}:
            patch.delenv(name, raising=False)
        runtime = {**RUNTIME, **timeout_env, "CONTAINER_API_URL": api_url(emu)}
        passed = pass_options(options, runtime)
        for name, value in passed["env"].items():
            patch.setenv(name, value)
        for name, value in patches.items():
            patch.setattr(handler, name, value)
        capsys.readouterr()
        code = cli.main(MODES, [mode.name, *passed.get("args", [])])
        captured = capsys.readouterr()
    return observe(emu, code, captured.out, captured.err)


# -- invariants ----------------------------------------------------------------------------------


def ids(rows: list[dict[str, Any]]) -> list[Any]:
    return [row.get("id") for row in rows]


def delivered(observed: Observed) -> list[Any]:
    """Ids the channel stand-in took (and answered with results) during the run."""
    return [i for call in observed.channel if call.get("status") == 200 for i in call["ids"]]


def leaks(observed: Observed) -> list[str]:
    places = {"stdout": observed.out, "stderr": observed.err, **observed.written}
    return [
        f"{place} holds {form!r}"
        for place, text in places.items()
        for form in CANARY_FORMS
        if form in text
    ]


def expected_feedback(observed: Observed, cut: Fault | None) -> set[Any]:
    """Ids that must have feedback: products whose channel answer reached the run."""
    wanted: set[Any] = set()
    if not FEEDBACK_FILE:
        return wanted
    answered = [
        call
        for number, call in enumerate(observed.channel, start=1)
        if call.get("status") == 200 and not (cut is not None and cut.hits(number))
    ]
    for call in answered:
        wanted |= set(call["ids"] if FEEDBACK_SUCCESSES else call["rejected_ids"])
    return wanted


def problems(
    observed: Observed, baseline: Observed, kind: str, fault: Fault, expected: int
) -> list[str]:
    """Every invariant the run broke (empty: the cell passes)."""
    found = []
    err_lines = observed.err.splitlines()
    if observed.code != expected:
        found.append(f"exit code {observed.code}, expected {expected}")
    if "Traceback" in observed.err:
        found.append("a traceback on stderr")
    summary_lines = [line for line in err_lines if line.startswith("Run failed: ")]
    if observed.code == 1:
        if len(summary_lines) != 1 or err_lines[-1:] != summary_lines:
            found.append("stderr does not end with exactly one 'Run failed: ' line")
        elif kind in NAMED_IN_FAILURE and NAMED_IN_FAILURE[kind] not in summary_lines[0]:
            found.append(f"the failure line does not name the {kind} call")
    elif summary_lines:
        found.append("a 'Run failed' line on a successful run")
    if kind != "log" and len(err_lines) > (1 if observed.code == 1 else 0):
        found.append("stderr holds more than the one failure line")
    if kind == "log" and len(observed.logs) + len(err_lines) < len(baseline.logs):
        found.append("a log line the Container API did not take is not on stderr either")

    for name, rows in (("output", observed.output), ("feedback", observed.feedback)):
        if len(set(ids(rows))) != len(rows):
            found.append(f"duplicate ids in {name}")
    if len(set(delivered(observed))) != len(delivered(observed)):
        found.append("a product delivered to the channel twice")
    if observed.code == 0:
        if observed.output != baseline.output:
            found.append("exit 0, but the output differs from the fault-free run's")
        if observed.feedback != baseline.feedback:
            found.append("exit 0, but the feedback differs from the fault-free run's")
        if sorted(delivered(observed)) != sorted(delivered(baseline)):
            found.append("exit 0, but the channel got other products than in the fault-free run")
    elif any(row not in baseline.output for row in observed.output):
        found.append("a failed run wrote output rows the fault-free run does not write")

    feedback_failed = kind == "write" and observed.code == 1
    cut = fault if kind == "channel" and fault.action == "cut" else None
    missing = expected_feedback(observed, cut) - set(ids(observed.feedback))
    if missing and not feedback_failed:
        found.append(f"no feedback for delivered products {sorted(missing)}")
    found.extend(leaks(observed))
    return found


# -- the baseline and the cells ------------------------------------------------------------------


def input_ids(observed: Observed) -> list[Any]:
    """Ids of every row the run read (each stream it read, whole)."""
    read = []
    streams = {**STREAMS, "feed": FEED}
    for stream, served in sorted(observed.served.items()):
        assert served == len(streams[stream]), f"the fault-free run read part of {stream}"
        if stream != "unchanged":  # unchanged rows are only counted, never sent
            read += ids(streams[stream])
    return read


@pytest.fixture(scope="module")
def baselines() -> dict[str, Observed]:
    return {}


@pytest.fixture
def baseline(
    request: pytest.FixtureRequest,
    baselines: dict[str, Observed],
    tmp_path_factory: pytest.TempPathFactory,
    capsys: pytest.CaptureFixture[str],
    local_run_for: LocalRunFactory,
) -> Observed:
    """The mode's fault-free run, checked: it exits 0 quietly and rows out equal rows in."""
    name = request.node.callspec.params["mode"]
    if name not in baselines:
        observed = run_in_process(
            MODES[name], tmp_path_factory.mktemp(name), [], capsys, local_run_for
        )
        assert (observed.code, observed.err) == (0, ""), observed.err
        read = input_ids(observed)
        if read and observed.output:
            assert sorted(ids(observed.output)) == sorted(read)
        if read and observed.channel:
            assert sorted(delivered(observed)) == sorted(read)
        assert not leaks(observed), leaks(observed)
        baselines[name] = observed
    return baselines[name]


@dataclass
class Tally:
    """The cells run in this session, for the summary line (the plugin writes it at the end)."""

    cases: int = 0
    failed: int = 0
    modes: set[str] = field(default_factory=set)
    kinds: set[str] = field(default_factory=set)
    faults: set[str] = field(default_factory=set)

    def count(self, mode: str, kind: str, fault: str, *, failed: bool) -> None:
        self.cases += 1
        self.failed += failed
        self.modes.add(mode)
        self.kinds.add(kind)
        self.faults.add(fault)

    def line(self) -> str:
        modes = f"{len(self.modes)} mode" + ("s" if len(self.modes) != 1 else "")
        return (
            f"fault matrix: {self.cases} cases over {modes}, "
            f"{len(self.kinds)} call kinds, {len(self.faults)} faults; {self.failed} failed"
        )


TALLY = Tally()


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("mode", sorted(MODES))
def test_fault_matrix(
    mode: str,
    fault: str,
    baseline: Observed,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    local_run_for: LocalRunFactory,
) -> None:
    """Every cell of one mode and one fault; the failure message lists every broken cell."""
    reads_input = "input" in baseline.served
    failures = []
    for kind in CALL_KINDS:
        made = baseline.calls[kind]
        for always in cells(kind, fault, reads_input) if made else []:
            # The middle call of its kind: work done before the fault and after it both show.
            injected = Fault(kind=kind, n=(made + 1) // 2, action=fault, repeat=always)
            observed = run_in_process(MODES[mode], tmp_path, [injected], capsys, local_run_for)
            expected = expected_exit(kind, fault, always, reads_input)
            broken = problems(observed, baseline, kind, injected, expected)
            TALLY.count(mode, kind, fault, failed=bool(broken))
            if broken:
                broken.append(f"stderr: {observed.err!r}")
                failures.append(f"{mode} {injected}: {'; '.join(broken)}")
    assert not failures, "\n".join(failures)


#: `python main.py ...` with module attributes set first (for a handler module's CHANNEL_URL).
PATCHED_MAIN = """
import importlib, json, runpy, sys
module, patches = importlib.import_module(sys.argv[1]), json.loads(sys.argv[2])
for name, value in patches.items():
    setattr(module, name, value)
sys.argv[:3] = ["main.py"]
runpy.run_path("main.py", run_name="__main__")
"""


@pytest.mark.parametrize("survived", [True, False], ids=["survived", "failed"])
def test_a_subprocess_run_matches_the_in_process_run(
    survived: bool,
    tmp_path_factory: pytest.TempPathFactory,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    local_run_for: LocalRunFactory,
) -> None:
    """The matrix runs in-process; `python main.py` must give the same result for a cell."""
    name = sorted(MODES)[0]
    mode = MODES[name]
    calls = run_in_process(mode, tmp_path_factory.mktemp(name), [], capsys, local_run_for).calls
    kind = next(k for k in CALL_KINDS if k != "log" and calls[k])
    fault = Fault(kind=kind, n=1, action="429,retry-after=0" if survived else "500")
    inside = run_in_process(mode, tmp_path / "in", [fault], capsys, local_run_for)

    emu = start_emulator(tmp_path / "sub", [fault])
    options, patches = local_options(local_run_for, mode, emu.url)
    env = {key: value for key, value in os.environ.items() if key not in declared_option_names()}
    passed = pass_options(options, {**env, **RUNTIME, "CONTAINER_API_URL": api_url(emu)})
    main = ["main.py"]
    if patches:
        main = ["-c", PATCHED_MAIN, mode.run.__module__, json.dumps(patches)]
    result = subprocess.run(  # noqa: S603 - our interpreter running our main.py
        [sys.executable, *main, name, *passed.get("args", [])],
        cwd=PROJECT_ROOT,
        env=passed["env"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    outside = observe(emu, result.returncode, result.stdout, result.stderr)

    assert outside.code == inside.code == (0 if survived else 1)
    assert outside.err == inside.err
    assert outside.out == inside.out
    assert (outside.output, outside.feedback) == (inside.output, inside.feedback)
    assert sorted(delivered(outside)) == sorted(delivered(inside))
    assert [log["level"] for log in outside.logs] == [log["level"] for log in inside.logs]
    assert not leaks(outside)


def test_the_matrix_takes_its_option_values_from_the_local_run_for_fixture() -> None:
    """Authors adapt the matrix by overriding `local_run_for`: its values must be the ones used,
    with only the password options replaced by the canary."""
    mode = MODES[sorted(MODES)[0]]
    given = LocalRun(options={"SOME_OPTION": "from the fixture"}, patches={"CONSTANT": 1})
    options, patches = local_options(lambda _mode, _url: given, mode, "http://emulator")
    passwords = {o.name for o in mode.settings.options() if o.field_type == "password"}
    assert options == {"SOME_OPTION": "from the fixture", **dict.fromkeys(passwords, CANARY)}
    assert patches == {"CONSTANT": 1}
