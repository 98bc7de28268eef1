"""Synthetic product feeds, streamed to disk as JSON Lines.

Rows look like a real feed: ten visible columns (ids, unicode titles, a 200-character
description, prices, links) plus one hidden `___` system column, all values strings as the
platform stores them. Generation is deterministic (seeded) and never holds more than one row.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

#: Bump when the row shape changes, so cached data sets are regenerated.
VERSION = 2
#: Share of products per export-delta stream (must add up to 10 tenths).
DELTA_SPLIT = (("new", 4), ("modified", 3), ("unchanged", 2), ("deleted", 1))
DESCRIPTION_LENGTH = 200

_WORDS = (
    "Größe",
    "café",
    "naïve",
    "Ärmel",
    "fiancé",
    "crème",
    "smørrebrød",
    "żółw",
    "Ångström",
    "日本製",
    "高品質",
    "комфорт",
    "ёлка",
    "κλασικό",
    "ευρώ",
    "piñata",
    "jalapeño",
    "façade",
    "cotton",
    "organic",
    "waterproof",
    "lightweight",
    "premium",
    "classic",
    "durable",
    "soft",
    "stainless",
    "steel",
    "handmade",
    "vintage",
    "modern",
    "recycled",
    "breathable",
    "slim",
)
_NOUNS = ("Jacke", "chaise", "mug", "lampe", "Rucksack", "sneaker", "tasse", "écharpe", "ковёр")
_BRANDS = ("Nordström & Co", "Café Ünique", "Øresund Design", "東京 Goods", "Acme", "Müller")
_TYPES = (
    "Apparel > Jackets",
    "Home > Lighting > Lampen",
    "Küche > Tassen",
    "Sport > Laufschuhe",
    "Maison > Décoration",
)
_AVAILABILITY = ("in stock", "out of stock", "preorder")


@dataclass(frozen=True)
class DataSet:
    """The files of one size: `input/input.jsonl` and `delta/<stream>.jsonl`."""

    root: Path
    rows: int

    @property
    def input_dir(self) -> Path:
        return self.root / "input"

    @property
    def delta_dir(self) -> Path:
        return self.root / "delta"

    def delta_rows(self, stream: str) -> int:
        """Rows in one delta stream (row i goes to the stream of i % 10)."""
        return sum(1 for i in range(10) if _stream_of(i) == stream) * (self.rows // 10) + sum(
            1 for i in range(self.rows % 10) if _stream_of(i) == stream
        )


def _stream_of(tenth: int) -> str:
    upper = 0
    for stream, share in DELTA_SPLIT:
        upper += share
        if tenth < upper:
            return stream
    raise ValueError(tenth)


def _descriptions(rng: random.Random, count: int) -> list[str]:
    """A pool of exactly DESCRIPTION_LENGTH-character unicode descriptions."""
    pool = []
    for _ in range(count):
        words: list[str] = []
        while sum(len(w) + 1 for w in words) < DESCRIPTION_LENGTH:
            words.append(rng.choice(_WORDS))
        pool.append(" ".join(words)[:DESCRIPTION_LENGTH].rstrip().ljust(DESCRIPTION_LENGTH, "."))
    return pool


def product(index: int, descriptions: list[str]) -> dict[str, str]:
    """Product number `index` (its title is never empty: the channel rejects empty titles).

    Values are spread by cheap integer hashing of the index rather than a random generator:
    deterministic, and fast enough to write a million rows in well under a minute.
    """
    pid = f"SKU-{index:08d}"
    mix = index * 2_654_435_761 % 4_294_967_296
    price = 199 + mix % 99_800
    return {
        "id": pid,
        "title": f"{_WORDS[mix % len(_WORDS)]} {_NOUNS[mix % len(_NOUNS)]} {index}",
        "description": descriptions[mix % len(descriptions)],
        "brand": _BRANDS[index % len(_BRANDS)],
        "price": f"{price // 100}.{price % 100:02d} EUR",
        "availability": _AVAILABILITY[mix % len(_AVAILABILITY)],
        "gtin": f"{4_000_000_000_000 + index:013d}",
        "link": f"https://shop.example.com/p/{pid.lower()}?ref=feed&lang=de",
        "image_link": f"https://cdn.example.com/img/{index % 9973}/{pid}.jpg",
        "product_type": _TYPES[mix % len(_TYPES)],
        "___internal_score": f"0.{mix:010d}",
    }


def ensure(root: Path, rows: int, seed: int = 42) -> tuple[DataSet, bool]:
    """The data set of `rows` products under `root`, generated unless already there.

    Returns the data set and whether it was (re)generated. One pass writes both the full
    input and the four delta streams (40/30/20/10 %), line by line.
    """
    data = DataSet(root, rows)
    marker = root / "complete.json"
    stamp = {"version": VERSION, "rows": rows, "seed": seed}
    if marker.is_file() and json.loads(marker.read_text(encoding="utf-8")) == stamp:
        return data, False
    data.input_dir.mkdir(parents=True, exist_ok=True)
    data.delta_dir.mkdir(parents=True, exist_ok=True)
    marker.unlink(missing_ok=True)
    rng = random.Random(seed)
    descriptions = _descriptions(rng, 997)
    encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
    buffering = 1 << 20
    with (data.input_dir / "input.jsonl").open("w", encoding="utf-8", buffering=buffering) as full:
        streams = {
            name: (data.delta_dir / f"{name}.jsonl").open(
                "w", encoding="utf-8", buffering=buffering
            )
            for name, _ in DELTA_SPLIT
        }
        try:
            by_tenth = [streams[_stream_of(tenth)] for tenth in range(10)]
            for index in range(rows):
                line = encoder.encode(product(index, descriptions)) + "\n"
                full.write(line)
                by_tenth[index % 10].write(line)
        finally:
            for handle in streams.values():
                handle.close()
    marker.write_text(json.dumps(stamp), encoding="utf-8")
    return data, True
