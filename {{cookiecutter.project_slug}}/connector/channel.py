"""Your channel: the third-party product API the export modes deliver to.

Replace the two calls with your channel's API; the export handlers only rely on
`upsert(products)` and `delete(ids)` returning one `Result` per product, in order. Retries,
pooling, requests in flight (`send_all`) and the failure policy come from
`cde_runtime.ChannelClient` and `ExportReport`; both calls run on worker threads, so keep them
free of shared mutable state.
The shape it speaks out of the box (also served by the local emulator at `/channel`):

    POST {url}/products         {"products": [{...}, ...]}  → 200 {"results": [...]}
    POST {url}/products/delete  {"ids": ["...", ...]}       → 200 {"results": [...]}
    result: {"id": "...", "status": "ok"} | {"id": "...", "status": "error", "message": "..."}
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cde_runtime import ChannelClient, ChannelError, Result

#: Products per channel request: set it to what your channel's bulk API takes in one call. Each
#: request costs a fixed overhead, so small batches make long exports measurably slower.
CHANNEL_BATCH_SIZE = 500
#: Requests in flight at once. A remote channel answers each in tens to hundreds of
#: milliseconds, so one at a time spends an export waiting: with 8 in flight it runs several
#: times faster. Lower it if your channel's rate limit asks for that; 1 sends strictly one
#: request after the other. While the channel answers 429 or 503, fewer requests are sent at
#: once automatically. Feedback stays in input order whatever the value.
CHANNEL_CONCURRENCY = 8


class Channel(ChannelClient):
    """The channel's product API."""

    def upsert(self, products: Sequence[dict[str, Any]]) -> list[Result]:
        """Create or update products; one Result per product, in order."""
        ids = [product.get("id") for product in products]
        return self._results("/products", {"products": list(products)}, ids)

    def delete(self, ids: Sequence[Any]) -> list[Result]:
        """Delete products by id; one Result per id, in order."""
        return self._results("/products/delete", {"ids": list(ids)}, list(ids))

    def _results(self, path: str, body: dict[str, Any], ids: list[Any]) -> list[Result]:
        if not ids:
            return []
        payload = self.post_json(path, body)
        results = payload.get("results") if isinstance(payload, dict) else None
        if not isinstance(results, list):
            raise ChannelError(f"Channel POST {path} answered without a results list.")
        by_id = {str(item.get("id")): item for item in results if isinstance(item, dict)}
        return [result_of(product_id, by_id.get(str(product_id))) for product_id in ids]


def result_of(product_id: Any, item: dict[str, Any] | None) -> Result:
    if item is None:
        return Result(product_id, ok=False, message="no result from the channel")
    if item.get("status") == "ok":
        return Result(product_id, ok=True)
    return Result(product_id, ok=False, message=str(item.get("message") or "rejected"))
