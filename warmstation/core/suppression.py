"""Small-group suppression (小样本抑制): a figure with too few people behind it is not shown,
neither directly nor by subtraction. One rule for every aggregate the system publishes — the
housing survey's groups and the district dashboard's panels."""

from __future__ import annotations

from collections.abc import Hashable, Mapping

# A group smaller than this is not shown (neither its size nor anything about it).
MIN_GROUP = 5


def hidden(n: int | None) -> bool:
    """True when a figure resting on `n` people (or records) must not be shown: 1..MIN_GROUP-1.
    Zero is shown: nobody is singled out by "none"."""
    return n is not None and 0 < n < MIN_GROUP


def protect[K: Hashable](counts: Mapping[K, int], *, total: int | None) -> dict[K, int | None]:
    """`counts` with every count of 1..MIN_GROUP-1 hidden (None). When the total is shown
    and exactly one count is hidden, it could be had by subtraction (total minus the others):
    then the smallest shown non-zero count is hidden too (complementary suppression)."""
    shown: dict[K, int | None] = {k: (None if hidden(n) else n) for k, n in counts.items()}
    gone = [k for k, v in shown.items() if v is None]
    if total is not None and len(gone) == 1:
        others = sorted(
            ((n, str(k), k) for k, n in counts.items() if k not in gone and n > 0),
            key=lambda t: (t[0], t[1]),
        )
        if others:
            shown[others[0][2]] = None
    return shown
