"""The raw bound: the least a client can do per row, run as its own process.

    python benchmarks/raw_bound.py URL [--read-only] [--type input]

One pooled `httpx.Client` reads `next_batch?size=999` until an empty batch and (unless
--read-only) posts each batch straight back to `/output/output`. Rows are decoded and
re-encoded with the standard `json` module (any client must look at the rows), nothing else.
Prints `rows=<n>` on stdout.
"""

from __future__ import annotations

import argparse
import json

import httpx

BATCH = 999


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url")
    parser.add_argument("--read-only", action="store_true")
    parser.add_argument("--type", default="input")
    args = parser.parse_args()
    encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
    headers = {"Content-Type": "application/json"}
    rows = 0
    with httpx.Client(base_url=args.url, timeout=600.0, trust_env=False) as http:
        read_path = f"/input/{args.type}/next_batch"
        params = {"size": str(BATCH)}
        while True:
            response = http.get(read_path, params=params)
            response.raise_for_status()
            batch = json.loads(response.content).get("data") or []
            if not batch:
                break
            rows += len(batch)
            if not args.read_only:
                body = encoder.encode({"data": batch}).encode()
                written = http.post("/output/output", content=body, headers=headers)
                if written.status_code != 201:
                    raise SystemExit(f"write failed: {written.status_code} {written.text[:200]}")
    print(f"rows={rows}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
