"""Helpers shared by the drivers' synthetic record generators (benchmarks, tests)."""

from __future__ import annotations

import random
from collections.abc import Callable

# Real traffic repeats numbers: customers, suppliers and colleagues at other sites
# are called again and again. By default the synthetic outside numbers come from
# a pool of this many, the popular ones drawn more often.
DEFAULT_NUMBER_POOL = 50_000


def _fresh_number(rng: random.Random) -> str:
    """An outside number as an Italian PBX records it: access code 0, then the number."""
    if rng.random() < 0.3:
        return f"0039{rng.randrange(100_000_000, 1_000_000_000)}"
    return f"0{rng.randrange(100_000_000, 1_000_000_000)}"


def external_numbers(rng: random.Random, pool: int | None = DEFAULT_NUMBER_POOL) -> Callable[[], str]:
    """A source of outside numbers: from a pool of ``pool`` numbers with a skewed
    popularity (index = pool × u², so low indices come up more often), or all
    different when ``pool`` is 0 or None (the worst case for caches)."""
    if not pool:
        return lambda: _fresh_number(rng)
    numbers = [_fresh_number(rng) for _ in range(pool)]
    return lambda: numbers[int(pool * rng.random() ** 2)]
