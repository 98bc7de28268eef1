"""Specification of redaction: no secret leaves the process, in any encoding it can take."""

from __future__ import annotations

import base64
import io
import json
import logging
import sys
from urllib.parse import quote, quote_plus

import pytest
from cde_runtime import redaction
from cde_runtime.logs import RedactSecrets
from cde_runtime.options import Option, clean_options
from cde_runtime.redaction import MASK, RedactingStream, Redactor
from hypothesis import given, settings
from hypothesis import strategies as st

# Secrets as people paste them: quotes, backslashes, %-escapes, unicode, spaces inside. Control
# characters cannot reach the redactor (the settings refuse such a secret), but CR/LF around a
# value are stripped on load, so the property below also feeds values that once held them.
SECRET_CHARS = st.characters(
    codec="utf-8", exclude_categories=("Cc", "Cs"), include_characters="'\"\\%&=+/:@ "
)
secrets = (
    st.text(SECRET_CHARS, min_size=8, max_size=24).map(str.strip).filter(lambda s: len(s) >= 8)
)


def encoded_forms(secret: str) -> dict[str, str]:
    """The ways a secret shows up in text the run writes."""
    return {
        "raw": f"token {secret} rejected",
        "repr": f"error: {secret!r}",
        "repr of a dict": repr({"token": secret, "n": 1}),
        "repr of an exception": repr(ValueError(f"bad {secret}")),
        "json": json.dumps({"token": secret}),
        "json ascii": json.dumps({"token": secret}, ensure_ascii=True),
        "json in json": json.dumps({"body": json.dumps({"token": secret})}),
        "url-encoded": f"https://api.example.com/x?q={quote(secret, safe='')}",
        "url-encoded plus": f"body=a&t={quote_plus(secret)}",
        "basic auth": "Authorization: Basic "
        + base64.b64encode(f"user:{secret}".encode()).decode(),
        "basic auth, other user": base64.b64encode(f"ab:{secret}".encode()).decode(),
    }


@settings(max_examples=150, deadline=None)
@given(secret=secrets)
def test_a_secret_is_masked_in_every_encoding(secret: str) -> None:
    redactor = Redactor([secret])
    for name, text in encoded_forms(secret).items():
        masked = redactor.text(text)
        for form in ("raw", secret, quote(secret, safe=""), json.dumps(secret)[1:-1]):
            assert form == "raw" or form not in masked, (name, masked)
        if name.startswith("basic auth"):
            # The base64 core of the secret is gone: decoding what is left cannot give it back.
            assert MASK in masked, name


@settings(max_examples=60, deadline=None)
@given(secret=secrets, padding=st.sampled_from(["\r\n", "\n", " ", "\t", "\r"]))
def test_a_pasted_secret_with_line_breaks_is_loaded_stripped_and_masked(
    secret: str, padding: str
) -> None:
    token = Option("TOKEN", "password", required=True, default="", description="")
    loaded = clean_options([token], {"TOKEN": padding + secret + padding})
    assert loaded == {"TOKEN": secret}
    assert secret not in Redactor([loaded["TOKEN"]]).text(f"failed: {secret + padding!r}")


@pytest.mark.parametrize(
    ("text", "leak"),
    [
        ("GET https://bob:hunter22@feed.example.com/p", "hunter22"),
        ("GET https://ghp_tokenvalue@git.example.com/p", "ghp_tokenvalue"),
        ("GET https://feed.example.com/p?api_key=k3y-value&page=2", "k3y-value"),
        ("https://x.example.com/?page=1&access_token=abc123def", "abc123def"),
        ("https://s3.example.com/o?X-Amz-Signature=f00ba7&X-Amz-Credential=AKIA1", "f00ba7"),
        ("https://x.example.com/?password=pa55word", "pa55word"),
        ("https://x.example.com/?secret=s3cr3t#frag", "s3cr3t"),
        ("https%3A%2F%2Fx.example.com%2F%3Ftoken%3Dabcdef123", "abcdef123"),
        ("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload", "eyJhbGciOiJIUzI1NiJ9"),
    ],
)
def test_credentials_in_urls_and_headers_are_masked_without_knowing_them(
    text: str, leak: str
) -> None:
    masked = Redactor().text(text)
    assert leak not in masked
    assert MASK in masked


def test_a_url_without_credentials_is_left_alone() -> None:
    text = "GET https://feed.example.com/products?page=2&sort=title"
    assert Redactor().text(text) == text


def test_the_stream_wrapper_masks_a_secret_written_in_pieces() -> None:
    target = io.StringIO()
    with redaction.using(["piece-by-piece-secret"]):
        stream = RedactingStream(target)
        stream.write("a piece-by-")
        stream.write("piece-secret here\nnext")
        stream.flush()
    assert target.getvalue() == f"a {MASK} here\nnext"


def test_a_traceback_through_the_log_filter_is_masked() -> None:
    secret = "tb-secret-0x42"
    try:
        raise RuntimeError(f"connect failed for {secret!r}")
    except RuntimeError:
        record = logging.getLogger("t").makeRecord(
            "t", logging.ERROR, __file__, 1, "failed", (), exc_info=sys.exc_info()
        )
    RedactSecrets(Redactor([secret])).filter(record)
    assert record.exc_text is not None
    assert secret not in record.exc_text
    assert "RuntimeError" in record.exc_text
