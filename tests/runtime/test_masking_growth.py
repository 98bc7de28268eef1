"""Masking does bounded work per character, whatever text it is given (issue 16, item 3).

No timing here: the properties are structural (every repeat of a masking pattern is bounded or
possessive, so no match attempt can backtrack over an unbounded stretch) and counted (the
characters the stdout/stderr wrapper hands to the masking). benchmarks/masking.py prints the
time per 100 KB.
"""

from __future__ import annotations

import io
import re
from re import _constants as sre_constants  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

from cde_runtime import redaction
from hypothesis import given, settings
from hypothesis import strategies as st


def backtracking_repeats(pattern: re.Pattern[str]) -> list[str]:
    """The repeats of `pattern` that are unbounded and may give characters back."""
    found: list[str] = []

    def walk(items: Any) -> None:
        for op, av in items:
            if op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT):
                low, high, sub = av
                if high == sre_constants.MAXREPEAT:
                    found.append(f"{op} {{{low},}} of {sub}")
                walk(sub)
            elif op == sre_constants.POSSESSIVE_REPEAT:
                walk(av[2])
            elif op == sre_constants.SUBPATTERN:
                walk(av[-1])
            elif op == sre_constants.BRANCH:
                for branch in av[1]:
                    walk(branch)
            elif op == sre_constants.ATOMIC_GROUP:
                walk(av)

    walk(sre_parse.parse(pattern.pattern, pattern.flags))
    return found


def test_no_masking_pattern_can_backtrack_over_an_unbounded_stretch() -> None:
    patterns = [pattern for pattern, _ in redaction._PATTERNS]
    known = redaction.Redactor(["s3cr3t", "other-secret"])._known
    assert known is not None
    patterns.append(known)
    assert {p.pattern: backtracking_repeats(p) for p in patterns} == {
        p.pattern: [] for p in patterns
    }


class CountingMask:
    def __init__(self) -> None:
        self.characters = 0
        self.calls = 0

    def __call__(self, text: str) -> str:
        self.characters += len(text)
        self.calls += 1
        return text


@given(
    st.lists(
        st.text(st.sampled_from("ab=%&\r\n"), min_size=1, max_size=30), min_size=1, max_size=300
    )
)
@settings(max_examples=50, deadline=None)
def test_each_character_written_to_a_masked_stream_is_masked_once(writes: list[str]) -> None:
    mask = CountingMask()
    out = io.StringIO()
    stream = redaction.RedactingStream(out, mask=mask)
    for text in writes:
        stream.write(text)
    stream.flush()
    written = "".join(writes)
    assert out.getvalue() == written
    assert mask.characters == len(written)


def test_progress_output_rewriting_one_line_is_masked_once_per_write() -> None:
    # 80,000 `\r` progress updates: each is masked once when its line ends, never rescanned.
    mask = CountingMask()
    stream = redaction.RedactingStream(io.StringIO(), mask=mask)
    for step in range(80_000):
        stream.write(f"\r{step} rows")
    stream.flush()
    assert mask.characters == sum(len(f"\r{step} rows") for step in range(80_000))


def test_a_long_unterminated_write_goes_out_in_bounded_pieces() -> None:
    mask = CountingMask()
    out = io.StringIO()
    stream = redaction.RedactingStream(out, mask=mask)
    piece = "x" * 1000
    for _ in range(3 * redaction.RedactingStream.MAX_PENDING // 1000):
        stream.write(piece)
    assert mask.calls >= 2  # written before the end, not held whole in memory
    stream.flush()
    assert (
        mask.characters
        == len(out.getvalue())
        == 1000 * (3 * redaction.RedactingStream.MAX_PENDING // 1000)
    )
