"""Masking time per 100 KB of hostile text (issue 16): linear, whatever the text.

    python benchmarks/masking.py [--kb 100] [--repeat 5]

Every line the run writes passes `cde_runtime.redaction`: a channel's error message, a feed's
answer quoted in a failure, a handler's print. Each text below is --kb KB of one shape that
made the old patterns backtrack (URL-encoded query strings, dotted words, `&name` runs,
credential words without a value), masked with one registered secret. Figures are CPU time
(`time.process_time`, best of --repeat) per 100 KB, and the ratio of 4x the text to 1x (a
linear masking gives about 4).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "{{cookiecutter.project_slug}}" / "vendor" / "cde-runtime" / "src"))

from cde_runtime.redaction import Redactor  # noqa: E402


def shapes(size: int) -> dict[str, str]:
    return {
        "url-encoded query": quote("a=b&c=d " * (size // 8 + 1), safe="")[:size],
        "dotted words": ("a." * size)[:size],
        "&name runs": ("&a" * size)[:size],
        "credential words": ("&tokentoken" * size)[:size],
        "plain log text": ("Sent 999 products to https://api.example.com/v1 in 0.3 s\n" * size)[
            :size
        ],
    }


def best(function: object, text: str, repeat: int) -> float:
    timings = []
    for _ in range(repeat):
        started = time.process_time()
        function(text)  # type: ignore[operator]
        timings.append(time.process_time() - started)
    return min(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kb", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    redactor = Redactor(["tok-5ecr3t-value"])
    size = args.kb * 1024
    print(f"masking, CPU ms per 100 KB (best of {args.repeat}), and time(4x) / time(1x):")
    for name, text in shapes(size).items():
        once = best(redactor.text, text, args.repeat)
        four = best(redactor.text, shapes(4 * size)[name], args.repeat)
        per_100kb = once * 1000 * 100 / args.kb
        print(f"  {name:<20} {per_100kb:8.1f} ms   x{four / once if once else 0:.1f}")


if __name__ == "__main__":
    main()
