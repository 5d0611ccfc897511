"""Price batches for the app's tests."""

from __future__ import annotations

import json
from datetime import date, timedelta

from finsig.models import MAX_BATCH_ROWS

# The longest a close in range can be in compact JSON (the shortest repr that reads back the
# same float, as json.dumps writes it): 17 significant digits, a point and an exponent.
LONGEST_CLOSE = 22
# 10,000 rows {"date":"YYYY-MM-DD","close":<22 chars>} (52 bytes), 9,999 commas, the brackets.
LARGEST_BATCH_BYTES = MAX_BATCH_ROWS * 52 + (MAX_BATCH_ROWS - 1) + 2


def longest_closes(count: int) -> list[float]:
    """`count` distinct closes in range whose compact JSON is LONGEST_CLOSE characters."""
    closes: list[float] = []
    candidate = 1.2345678901234567e-05
    while len(closes) < count:
        if len(json.dumps(candidate)) == LONGEST_CLOSE:
            closes.append(candidate)
        candidate = candidate * (1 + 3.7e-14)
    return closes


def largest_valid_batch() -> bytes:
    """10,000 rows, each as long as a valid row can be, in compact JSON."""
    rows = batch(date(1990, 1, 1), longest_closes(MAX_BATCH_ROWS))
    return json.dumps(rows, separators=(",", ":")).encode()


def batch(start: date, closes: list[float]) -> list[dict[str, object]]:
    """One row a day from `start`."""
    return [
        {"date": (start + timedelta(days=i)).isoformat(), "close": c} for i, c in enumerate(closes)
    ]
