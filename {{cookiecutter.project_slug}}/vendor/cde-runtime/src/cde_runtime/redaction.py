"""Masking secrets in everything the run writes: stderr, stdout, logs, feedback, error lines.

Redaction works on text, after formatting, so no code path can hand a secret to an output in a
shape the masking does not know. Two kinds of secret are masked:

- known secrets (the values of password options, registered by the CLI as soon as the settings
  are loaded), in every encoding they take on the way out: raw, escaped as Python or JSON
  would print them (`repr()` of a value, an exception quoting it, a log context), URL-encoded,
  and inside base64 (an HTTP basic-auth header carries `base64(user:password)`);
- credentials recognisable by their place, whatever their value: the user-info part of a URL
  (`https://user:pass@host`), credential-like query parameters (`?api_key=`, `&token=`,
  `&signature=`, ...) and `Authorization` schemes (`Bearer ...`, `Basic ...`).

The process keeps one active `Redactor` (`active()`); the CLI registers the run's secrets with
`register()`, and `RedactingStream` wraps sys.stdout/sys.stderr for the run, so even a stray
`print()` or an uncaught traceback is masked.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TextIO
from urllib.parse import quote, quote_plus

__all__ = [
    "MASK",
    "RedactingStream",
    "Redactor",
    "active",
    "redact",
    "redacted_std_streams",
    "register",
    "using",
]

MASK = "*****"

# Query parameter names that carry credentials: the name ends with one of these words
# (`api_key`, `X-Amz-Signature`, `access_token`, `client_secret`, ...).
_CREDENTIAL_WORDS = r"key|token|password|passwd|pwd|pass|secret|signature|sig|auth|credential"
# Every repeat below is bounded or possessive (it never gives back what it took), so masking is
# linear in the size of its input whatever that input is: with unbounded backtracking repeats, a
# few dozen KB of URL-encoded text took seconds (tests/runtime/test_masking_growth.py).
#: Longest URL scheme (`https`, `s3`, `git+ssh`) and parameter-name prefix (`x_api_` before
#: `key=`) the patterns look back over.
MAX_SCHEME = 32
MAX_NAME_PREFIX = 64


def _upto(count: int) -> str:
    """The regex repeat "0 to `count` times" (spelled without doubled braces, which the
    template renderer would read as its own)."""
    return "{0," + str(count) + "}"


_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # user-info of a URL: everything between `scheme://` and `@`, user name included (a
    # token is often passed as the user name alone).
    (
        re.compile(r"(?i)\b([a-z][a-z0-9+.-]" + _upto(MAX_SCHEME - 1) + r"://)[^/?#@\s'\"<>]++@"),
        rf"\g<1>{MASK}@",
    ),
    # credential-like query parameters, raw or URL-encoded once (`%3Ftoken%3D...`).
    (
        re.compile(
            r"(?i)((?:[?&;]|%3F|%26)[\w.%-]" + _upto(MAX_NAME_PREFIX) + rf"?(?:{_CREDENTIAL_WORDS})"
            rf"(?:=|%3D))[^&#\s'\"<>]++"
        ),
        rf"\g<1>{MASK}",
    ),
    # Authorization header values.
    (
        re.compile(r"(?i)\b(Basic|Bearer|Token|Digest)(\s++)[A-Za-z0-9._~+/=-]{6,}+"),
        rf"\1\2{MASK}",
    ),
)

# Base64 fragments shorter than this are too likely to occur by chance to be masked.
_MIN_BASE64_CORE = 6


class Redactor:
    """Masks known secrets (in all their encodings) and credential-shaped text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self.secrets: tuple[str, ...] = tuple(sorted({s for s in secrets if s}, key=len))
        forms = {form for secret in self.secrets for form in encodings(secret) if form}
        # Longest first: at any position the regex takes the first alternative that matches, so
        # a secret that contains another (or an encoding longer than the raw value) goes whole.
        ordered = sorted(forms, key=len, reverse=True)
        self._known = re.compile("|".join(map(re.escape, ordered))) if ordered else None

    def with_secrets(self, secrets: Iterable[str]) -> Redactor:
        """A redactor masking these secrets as well."""
        return Redactor((*self.secrets, *secrets))

    def text(self, value: str) -> str:
        if self._known is not None:
            value = self._known.sub(MASK, value)
        for pattern, replacement in _PATTERNS:
            value = pattern.sub(replacement, value)
        return value

    def value(self, value: Any) -> Any:
        """Mask inside JSON-like data (a log context, a feedback row)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {self.text(str(k)): self.value(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.value(item) for item in value]
        return value


def encodings(secret: str) -> set[str]:
    """The forms `secret` can take in text the run writes (raw first)."""
    escaped = {secret, *_escapes(secret)}
    # Escaped twice: the repr of a message that quotes the repr of a value, JSON inside JSON.
    escaped |= {twice for once in list(escaped) for twice in _escapes(once)}
    forms = set(escaped)
    for form in escaped:
        forms |= {quote(form, safe=""), quote(form), quote_plus(form)}
    forms |= _base64_cores(secret)
    return forms


def _escapes(text: str) -> set[str]:
    return {
        _python_escape(text, "'"),
        _python_escape(text, '"'),
        json.dumps(text)[1:-1],
        json.dumps(text, ensure_ascii=False)[1:-1],
        ascii(text)[1:-1],
    }


def _python_escape(text: str, quote_char: str) -> str:
    """`text` as it appears inside a Python string literal delimited by `quote_char`."""
    out = []
    for char in text:
        if char == "\\":
            out.append("\\\\")
        elif char == quote_char:
            out.append("\\" + char)
        elif char.isprintable():
            out.append(char)
        else:
            out.append(repr(char)[1:-1])
    return "".join(out)


def _base64_cores(secret: str) -> set[str]:
    """Base64 fragments that appear wherever `secret` is encoded inside a longer value.

    Base64 maps 3 bytes to 4 characters, so the encoding of `user:secret` contains one of three
    fixed strings, depending on where the secret starts modulo 3; the characters at the edges
    also depend on the neighbouring bytes and are left out.
    """
    raw = secret.encode()
    cores = set()
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + raw).decode()
        first = -(-8 * offset // 6)  # the first character made of secret bits only
        last = (8 * (offset + len(raw))) // 6  # one past the last such character
        core = encoded[first:last]
        if len(core) >= _MIN_BASE64_CORE:
            cores |= {core, core.replace("+", "-").replace("/", "_")}
    return cores


_lock = threading.Lock()
_active = Redactor()


def active() -> Redactor:
    """The process's redactor: every secret registered so far."""
    return _active


def register(secrets: Iterable[str]) -> None:
    """Mask these secrets everywhere from now on (the CLI calls it once the settings load)."""
    global _active
    with _lock:
        _active = _active.with_secrets(secrets)


def redact(text: str) -> str:
    """`text` with every registered secret and credential-shaped value masked."""
    return _active.text(text)


@contextmanager
def using(secrets: Iterable[str] = ()) -> Iterator[Redactor]:
    """Register secrets for a block only: those registered inside it (these, and any `register`
    call) are forgotten when it ends. The CLI wraps each run in one, so a process that runs
    several (a test session) starts each with no secrets but its own."""
    global _active
    previous = _active
    register(secrets)
    try:
        yield _active
    finally:
        _active = previous


class RedactingStream(io.TextIOBase):
    """A text stream that masks secrets, line by line, before they reach `target`.

    Whole lines are masked at once so a secret written in two pieces is still found; a partial
    line goes out on flush(). A carriage return ends a line as a newline does (progress output
    rewrites one line with `\r`), and a partial line longer than MAX_PENDING characters goes
    out masked as it is, so each character is masked once, however it is written.
    """

    #: Characters of an unterminated line kept back before they are masked and written anyway.
    MAX_PENDING = 1 << 20

    def __init__(self, target: TextIO, mask: Callable[[str], str] | None = None) -> None:
        super().__init__()
        self.target = target
        self._mask = mask
        self._pending: list[str] = []
        self._pending_size = 0
        self._lock = threading.Lock()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.target, "encoding", "utf-8")

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        """The target's handling of characters its encoding lacks (cli.py escapes them)."""
        return getattr(self.target, "errors", None)

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return self.target.isatty()

    def fileno(self) -> int:
        return self.target.fileno()

    def write(self, text: str) -> int:
        with self._lock:
            end = max(text.rfind("\n"), text.rfind("\r"))
            if end < 0:
                self._pending.append(text)
                self._pending_size += len(text)
                if self._pending_size > self.MAX_PENDING:
                    self._write_pending()
                return len(text)
            self._pending.append(text[: end + 1])
            self._write_pending()
            if end + 1 < len(text):
                self._pending.append(text[end + 1 :])
                self._pending_size = len(text) - end - 1
        return len(text)

    def flush(self) -> None:
        with self._lock:
            self._write_pending()
        self.target.flush()

    def _write_pending(self) -> None:
        if self._pending:
            text = "".join(self._pending)
            self._pending, self._pending_size = [], 0
            self.target.write((self._mask or redact)(text))


@contextmanager
def redacted_std_streams() -> Iterator[None]:
    """Wrap sys.stdout and sys.stderr in `RedactingStream` for the duration of the block."""
    import sys

    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = RedactingStream(saved[0]), RedactingStream(saved[1])
    try:
        yield
    finally:
        for stream in (sys.stdout, sys.stderr):
            # A closed pipe: nothing left to protect.
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
        sys.stdout, sys.stderr = saved
