"""Command line of the emulator.

`python -m cde_emulator [options]` serves; `python -m cde_emulator run <mode>` runs a connector.
Serving prints the URL and keeps going until Ctrl-C or SIGTERM, then prints a summary.
"""

from __future__ import annotations

import argparse
import codecs
import io
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from cde_emulator.faults import Fault
from cde_emulator.rows import InvalidInputFileError
from cde_emulator.runner import OutFolderInUseError, available_modes, default_out_dir, run
from cde_emulator.server import Emulator
from cde_emulator.state import format_summary


def _fault(spec: str) -> Fault:
    try:
        return Fault.parse(spec)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _rate(value: str) -> float:
    try:
        rate = float(value)
    except ValueError:
        rate = -1.0
    if not 0.0 <= rate <= 1.0:
        raise argparse.ArgumentTypeError(f"must be a number from 0 to 1, not {value!r}")
    return rate


def _milliseconds(value: str) -> float:
    try:
        milliseconds = float(value)
    except ValueError:
        milliseconds = -1.0
    if not 0.0 <= milliseconds <= 60_000:
        raise argparse.ArgumentTypeError(f"must be milliseconds from 0 to 60000, not {value!r}")
    return milliseconds / 1000


def _add_shared(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--fault",
        action="append",
        type=_fault,
        default=[],
        metavar="KIND:N:ACTION",
        help="make the N-th request of KIND (write|read|count|close|log|channel|feed|any; N+ = "
        "the N-th and later) answer ACTION (an HTTP status[,retry-after=S], drop, timeout, "
        "malformed, cut, empty, null, 204body, delay=SECONDS); repeatable",
    )
    parser.add_argument(
        "--channel-reject-rate",
        type=_rate,
        default=0.0,
        metavar="F",
        help="share of product ids (0..1, chosen by a stable hash) the channel stand-in rejects",
    )
    parser.add_argument(
        "--channel-latency",
        type=_milliseconds,
        default=0.0,
        metavar="MS",
        help="milliseconds every channel stand-in call waits before answering (a remote channel)",
    )
    parser.add_argument(
        "--read-latency",
        type=_milliseconds,
        default=0.0,
        metavar="MS",
        help="milliseconds every input read waits before answering (a slow Container API)",
    )
    _add_feed(parser)
    _add_platform_variants(parser)


def _add_feed(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--feed",
        type=Path,
        metavar="FILE",
        help="serve these products (JSON Lines) as a paginated product feed under /feed "
        "(FEED_URL=${CONTAINER_API_URL}/feed)",
    )
    parser.add_argument(
        "--feed-page-size",
        type=_positive,
        default=100,
        metavar="N",
        help="products per feed page (100)",
    )
    parser.add_argument(
        "--feed-latency",
        type=_milliseconds,
        default=0.0,
        metavar="MS",
        help="milliseconds every feed page waits before answering (a remote product API)",
    )


def _add_platform_variants(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--old-api",
        action="store_true",
        help="act as an older Container API: input type `full` only (`input` is unknown)",
    )
    parser.add_argument(
        "--max-body-bytes",
        type=_positive,
        metavar="BYTES",
        help="answer 413 to request bodies larger than this, like a proxy (default: no limit)",
    )


def _positive(value: str) -> int:
    if not value.isdecimal() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number above 0, not {value!r}")
    return int(value)


def _serve_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m cde_emulator",
        description="Serve a local Productsup Container API. "
        "`python -m cde_emulator run <mode>` runs the connector against it in one command.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080, help="0 picks a free port")
    parser.add_argument(
        "--data", type=Path, default=Path(), metavar="DIR", help="input files: <type>.jsonl|.csv"
    )
    parser.add_argument(
        "--out", type=Path, metavar="DIR", help="record files (default .emulator-out/serve/)"
    )
    _add_shared(parser)
    return parser


def _run_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m cde_emulator run",
        description="Start the emulator with the mode's sample data, run `python main.py <mode>` "
        "against it with options from .env (else .env.example), and report the results.",
    )
    parser.add_argument("mode", help="a mode of this connector (python main.py --help lists them)")
    parser.add_argument("--data", type=Path, metavar="DIR", help="default: sample_data/<mode>/")
    parser.add_argument("--out", type=Path, metavar="DIR", help="default: .emulator-out/<mode>/")
    parser.add_argument(
        "--env-file", type=Path, metavar="FILE", help="default: .env or .env.example"
    )
    _add_shared(parser)
    return parser


def serve(args: argparse.Namespace) -> int:
    emulator = Emulator(
        args.data,
        # Never inside the data folder (sample_data/ is committed); .emulator-out/ is git-ignored.
        args.out or default_out_dir("serve"),
        faults=args.fault,
        channel_reject_rate=args.channel_reject_rate,
        channel_latency=args.channel_latency,
        read_latency=args.read_latency,
        feed=args.feed,
        feed_page_size=args.feed_page_size,
        feed_latency=args.feed_latency,
        host=args.host,
        port=args.port,
        echo=sys.stderr,
        old_api=args.old_api,
        max_body_bytes=args.max_body_bytes,
    )
    stop = threading.Event()

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        stop.set()

    emulator.start()  # first: a broken --feed file ends here, before any handler is set
    signal.signal(signal.SIGTERM, on_sigterm)
    print(f"Container API emulator listening on {emulator.url}", flush=True)
    print(f"  data: {emulator.data_dir.resolve()}  out: {emulator.out_dir.resolve()}", flush=True)
    for input_type, error in emulator.state.invalid_inputs.items():
        print(f"  invalid input file for {input_type} (served as 500): {error}", file=sys.stderr)
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    emulator.stop()
    summary = emulator.summary()
    print(format_summary(summary), flush=True)
    return 0


def escape_what_the_streams_cannot_encode() -> None:
    """As `python main.py` does (cde_runtime/cli.py): under a locale that is not UTF-8, a
    character its encoding lacks (a path, an input error) is printed as a backslash escape."""
    for stream in (sys.stdout, sys.stderr):
        if not isinstance(stream, io.TextIOWrapper) or stream.errors != "strict":
            continue
        if codecs.lookup(stream.encoding).name != "utf-8":
            stream.reconfigure(errors="backslashreplace")


def main(argv: Sequence[str] | None = None) -> int:
    escape_what_the_streams_cannot_encode()
    try:
        return _main(argv)
    except InvalidInputFileError as error:  # a broken --feed file: nothing was started
        print(f"python -m cde_emulator: invalid feed file {error}", file=sys.stderr)
        return 2
    except OutFolderInUseError as error:  # another local run writes there: nothing was touched
        print(f"python -m cde_emulator run: {error}", file=sys.stderr)
        return 1


def _main(argv: Sequence[str] | None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["run"]:
        parser = _run_parser()
        args = parser.parse_args(argv[1:])
        modes = available_modes()
        if args.mode not in modes:  # before anything starts or any folder is emptied
            parser.error(f"unknown mode {args.mode!r}; this connector has: {', '.join(modes)}")
        return run(
            args.mode,
            data_dir=args.data,
            out_dir=args.out,
            env_file=args.env_file,
            faults=args.fault,
            channel_reject_rate=args.channel_reject_rate,
            channel_latency=args.channel_latency,
            read_latency=args.read_latency,
            feed=args.feed,
            feed_page_size=args.feed_page_size,
            feed_latency=args.feed_latency,
            old_api=args.old_api,
            max_body_bytes=args.max_body_bytes,
        )
    return serve(_serve_parser().parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
