"""JSON codecs side by side on the benchmark rows: CPU per row and whether behaviour is identical.

    python benchmarks/codecs.py [--rows 20000] [--repeat 7]

The connector's CPU is mostly JSON: encoding write bodies and channel requests, decoding read
batches and channel answers. This compares, in one process and interleaved so that the
machine's other load hits every codec alike:

- stdlib `json` configured as the runtime configures it (compact, UTF-8, NaN refused);
- pydantic-core `to_json`/`from_json` (already installed: pydantic-settings depends on it);
- orjson, when it is importable (it is not a dependency of generated projects).

Figures are CPU time (`time.process_time`, best of --repeat) per row, over batches of 999 rows
as the Container API sends and takes them. Then it checks the behaviour the runtime relies on:
byte-identical output, key order, Unicode written as UTF-8 not escapes, NaN/Infinity refused
when encoding, lone surrogates refused, and how each decoder treats NaN literals.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.data import _descriptions, product  # noqa: E402

BATCH = 999
Encode = Callable[[Any], bytes]
Decode = Callable[[bytes], Any]

_STDLIB = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def codecs() -> dict[str, tuple[Encode, Decode]]:
    found: dict[str, tuple[Encode, Decode]] = {
        "stdlib json": (lambda value: _STDLIB.encode(value).encode(), json.loads),
    }
    try:
        import pydantic_core

        found["pydantic-core"] = (pydantic_core.to_json, pydantic_core.from_json)
    except ImportError:
        pass
    try:
        import orjson

        found["orjson"] = (orjson.dumps, orjson.loads)
    except ImportError:
        pass
    return found


def rows(count: int) -> list[dict[str, str]]:
    import random

    descriptions = _descriptions(random.Random(42), 64)
    return [product(index, descriptions) for index in range(count)]


def cpu_per_row(work: Callable[[], None], count: int, repeat: int) -> float:
    best = math.inf
    for _ in range(repeat):
        started = time.process_time()
        work()
        best = min(best, time.process_time() - started)
    return best / count * 1e6


def measure(count: int, repeat: int) -> dict[str, dict[str, float]]:
    data = rows(count)
    batches = [{"data": data[i : i + BATCH]} for i in range(0, count, BATCH)]
    bodies = [_STDLIB.encode(batch).encode() for batch in batches]
    found = codecs()
    figures: dict[str, dict[str, float]] = {name: {} for name in found}
    for _ in range(repeat):  # interleaved: each round measures every codec once
        for name, (encode, decode) in found.items():

            def encode_all(encode: Encode = encode) -> None:
                for batch in batches:
                    encode(batch)

            def decode_all(decode: Decode = decode) -> None:
                for body in bodies:
                    decode(body)

            for what, work in (("encode", encode_all), ("decode", decode_all)):
                value = cpu_per_row(work, count, 1)
                figures[name][what] = min(figures[name].get(what, math.inf), value)
    return figures


def _outcome(call: Callable[[], Any]) -> str:
    try:
        result = call()
    except Exception as error:  # what each codec raises differs: the kind is the finding
        return f"raises {type(error).__name__}"
    return repr(result if not isinstance(result, bytes) else result.decode("utf-8", "replace"))


def behaviour() -> dict[str, dict[str, str]]:
    sample = rows(50)
    reference = _STDLIB.encode({"data": sample}).encode()
    checks: dict[str, dict[str, str]] = {}
    for name, (encode, decode) in codecs().items():
        checks[name] = {
            "bytes identical to stdlib (rows)": str(encode({"data": sample}) == reference),
            "round trip equal": str(decode(reference) == {"data": sample}),
            "key order kept": str(encode({"b": 1, "a": 2}) == b'{"b":1,"a":2}'),
            "Unicode as UTF-8": str(encode({"t": "Größe 日本"}) == '{"t":"Größe 日本"}'.encode()),
            "encode NaN": _outcome(partial(encode, {"p": math.nan})),
            "encode Infinity": _outcome(partial(encode, {"p": math.inf})),
            "encode lone surrogate": _outcome(partial(encode, {"t": "\ud800"})),
            "decode NaN literal": _outcome(partial(decode, b'{"p":NaN}')),
        }
    return checks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args(argv)
    figures = measure(args.rows, args.repeat)
    base = figures["stdlib json"]
    print(f"CPU µs per row, best of {args.repeat}, {args.rows:,} benchmark rows in batches of 999")
    print()
    print("| codec | encode | decode | encode+decode | vs stdlib |")
    print("|---|--:|--:|--:|--:|")
    for name, got in figures.items():
        total = got["encode"] + got["decode"]
        ratio = total / (base["encode"] + base["decode"])
        print(
            f"| {name} | {got['encode']:.2f} | {got['decode']:.2f} | {total:.2f} | {ratio:.2f}x |"
        )
    print()
    checks = behaviour()
    names = list(checks)
    print("| behaviour | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for check in checks[names[0]]:
        print(f"| {check} | " + " | ".join(checks[n][check] for n in names) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
