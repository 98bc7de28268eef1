"""A stand-in for the third-party channel an export connector sends products to.

Served by the emulator under `/channel`, so a local export run needs no real destination. It is not
part of the Container API; it is shaped like a typical product API with per-item results:

- `POST /channel/products` `{"products": [...]}` → 200 `{"results": [{"id", "status", "message"?}]}`
- `POST /channel/products/delete` `{"ids": [...]}` → the same results shape.

Products without a title are rejected ("title is required"), and a reject rate rejects a stable,
hash-chosen share of ids ("rejected by channel") so feedback paths can be exercised repeatably.
`Authorization: Bearer invalid` gets 401, to simulate bad credentials. The record written for each
call holds counts and ids, never headers, so tokens never reach the out dir.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

INVALID_TOKEN = "Bearer invalid"  # noqa: S105 - a sentinel tests send on purpose, not a secret


@dataclass(frozen=True)
class ChannelResult:
    """What the server sends back, and the line recorded in OUT/channel.jsonl."""

    status: int
    payload: dict[str, Any]
    record: dict[str, Any]


def rejected_by_rate(product_id: Any, reject_rate: float) -> bool:
    """Whether the reject rate picks this id: a stable hash, the same in every run and process."""
    if reject_rate <= 0:
        return False
    digest = hashlib.sha256(str(product_id).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < reject_rate


def _result(product_id: Any, error: str | None) -> dict[str, Any]:
    if error is None:
        return {"id": product_id, "status": "ok"}
    return {"id": product_id, "status": "error", "message": error}


def _upsert_error(product: dict[str, Any], reject_rate: float) -> str | None:
    title = product.get("title")
    if not isinstance(title, str) or not title.strip():
        return "title is required"
    if rejected_by_rate(product.get("id"), reject_rate):
        return "rejected by channel"
    return None


def handle(
    method: str, path: str, headers: Mapping[str, str], body: bytes, reject_rate: float
) -> ChannelResult:
    """Answer one channel request; `path` is the part after `/channel`."""
    endpoint = path.strip("/")
    record: dict[str, Any] = {"endpoint": endpoint or "/", "method": method}
    if endpoint not in ("products", "products/delete"):
        return ChannelResult(404, {"message": "Not found."}, {**record, "status": 404})
    if method != "POST":
        return ChannelResult(405, {"message": "Method not allowed."}, {**record, "status": 405})
    if headers.get("authorization") == INVALID_TOKEN:
        return ChannelResult(401, {"message": "Invalid credentials."}, {**record, "status": 401})
    try:
        parsed = json.loads(body) if body else None
    except (ValueError, UnicodeDecodeError):
        parsed = None
    key = "products" if endpoint == "products" else "ids"
    items = parsed.get(key) if isinstance(parsed, dict) else None
    if not isinstance(items, list) or (
        key == "products" and not all(isinstance(p, dict) for p in items)
    ):
        message = f"{key} must be a list" + (" of objects" if key == "products" else "")
        return ChannelResult(400, {"message": message}, {**record, "status": 400})

    if key == "products":
        results = [_result(p.get("id"), _upsert_error(p, reject_rate)) for p in items]
    else:
        results = [
            _result(i, "rejected by channel" if rejected_by_rate(i, reject_rate) else None)
            for i in items
        ]
    rejected = [r["id"] for r in results if r["status"] == "error"]
    record.update(
        status=200,
        products=len(items) if key == "products" else 0,
        deleted=len(items) - len(rejected) if key == "ids" else 0,
        rejected=len(rejected),
        ids=[r["id"] for r in results],
        rejected_ids=rejected,
        authorized="authorization" in headers,
    )
    return ChannelResult(200, {"results": results}, record)
