"""Throughput of the normalizer: ``python -m calltally.numbering.bench``.

Three figures per site (IT and US by default):

* **cold** — every number distinct, through a fresh :class:`Normalizer`, so
  every call pays for reading, validating and geocoding the number (the
  worst case: a first import);
* **warm** — the same numbers again through the same normalizer: every call
  is answered from its cache;
* **realistic** — numbers repeat with a Zipf-like popularity (a few numbers
  take most calls, a long tail is dialled once), as in real call records,
  through a fresh normalizer; cache misses are included.

``--reference`` measures the reference reading (``phonenumbers.parse``, see
``Normalizer(reference=True)``) instead, for comparison.

One-time costs (loading country metadata and the geocoder) are paid by a
warm-up on other numbers first and reported on their own: they happen once
per process, not per call.
"""

from __future__ import annotations

import argparse
import itertools
import random
import time

from . import Normalizer, NumberingPlan


def _digits(rng: random.Random, count: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(count))


def _italian(rng: random.Random) -> tuple[str, bool]:
    """A (number, outbound) pair as an Italian PBX with access code 0 records it."""
    roll = rng.random()
    outbound = rng.random() < 0.6
    access = "0" if outbound else ""
    if roll < 0.05:
        return str(rng.randint(200, 4999)), outbound  # an extension
    if roll < 0.07:
        return access + rng.choice(("112", "113", "118", "187", "1254")), True
    if roll < 0.32:
        return access + "02" + rng.choice("2345678") + _digits(rng, 7), outbound  # Milan
    if roll < 0.50:
        area = rng.choice(("06", "011", "010", "051", "055", "081", "030", "035", "039", "0341", "0331"))
        return access + area + rng.choice("2345678") + _digits(rng, 9 - len(area)), outbound
    if roll < 0.80:
        prefix = rng.choice(("320", "328", "333", "338", "340", "347", "348", "349", "366", "380", "392"))
        return access + prefix + _digits(rng, 7), outbound
    if roll < 0.85:
        return access + rng.choice(("800", "803")) + _digits(rng, 6 if rng.random() < 0.5 else 3), True
    if roll < 0.86:
        return access + "899" + _digits(rng, 6), True
    template = rng.choice(("44 20 7", "33 1 4", "49 30 2", "1 212 5", "41 44 2", "34 91 3", "44 7400 1"))
    national = template.replace(" ", "")
    number = national + _digits(rng, 12 - len(national))
    if outbound:
        return access + "00" + number, True
    return "+" + number, False


def _american(rng: random.Random) -> tuple[str, bool]:
    """A (number, outbound) pair as a US PBX with access code 9 records it."""
    roll = rng.random()
    outbound = rng.random() < 0.6
    access = "9" if outbound else ""
    if roll < 0.05:
        return str(rng.randint(2000, 7999)), outbound
    if roll < 0.06:
        return access + rng.choice(("911", "411", "311")), True
    line = str(rng.randint(2, 9)) + _digits(rng, 6)
    if roll < 0.30:
        return access + line, outbound  # 7-digit local
    if roll < 0.85:
        npa = rng.choice(("212", "646", "718", "917", "201", "312", "415", "617", "202", "305"))
        return access + ("1" if outbound else "") + npa + line, outbound
    if roll < 0.92:
        return access + "1" + rng.choice(("800", "888", "877")) + line, True
    if roll < 0.93:
        return access + "1900" + line, True
    template = rng.choice(("44207", "3314", "49302", "390223", "3491"))
    number = template + _digits(rng, 12 - len(template))
    return (access + "011" + number, True) if outbound else ("+" + number, False)


SITES = {
    "IT": (NumberingPlan("IT", "02", ("0",), lambda s: 3 <= len(s) <= 4 and s.isdigit()), _italian),
    "US": (NumberingPlan("US", "212", ("9",), lambda s: len(s) == 4 and s.isdigit()), _american),
}


def _distinct(make, rng: random.Random, count: int) -> list[tuple[str, bool]]:
    seen: dict[tuple[str, bool], None] = {}
    while len(seen) < count:
        seen[make(rng)] = None
    return list(seen)


def _run(normalizer: Normalizer, calls: list[tuple[str, bool]]) -> float:
    """Calls per second for normalizing ``calls`` in order."""
    started = time.perf_counter()
    for number, outbound in calls:
        normalizer(number, outbound=outbound)
    return len(calls) / (time.perf_counter() - started)


def bench(site: str, distinct: int, calls: int, zipf: float, seed: int, reference: bool = False) -> None:
    plan, make = SITES[site]
    rng = random.Random(seed)

    started = time.perf_counter()
    Normalizer(plan, cache_size=0, reference=reference)("0")
    warm = _distinct(make, random.Random(seed + 1), 2_000)
    _run(Normalizer(plan, cache_size=0, reference=reference), warm)
    print(f"{site}: one-time warm-up (metadata, geocoder) {time.perf_counter() - started:.2f} s")

    cold = _distinct(make, rng, distinct)
    normalizer = Normalizer(plan, cache_size=max(distinct, 1), reference=reference)
    rate = _run(normalizer, cold)
    print(f"{site}: cold      {rate:>10,.0f} normalizations/s  ({len(cold):,} distinct numbers)")
    rate = _run(normalizer, cold)
    print(f"{site}: warm      {rate:>10,.0f} normalizations/s  (the same numbers again, all cached)")
    normalizer.cache_clear()

    # Popularity of the k-th number is proportional to 1/k**zipf.
    pool = _distinct(make, rng, distinct)
    weights = list(itertools.accumulate(1 / (rank**zipf) for rank in range(1, len(pool) + 1)))
    stream = rng.choices(pool, cum_weights=weights, k=calls)
    unique = len(set(stream))
    rate = _run(Normalizer(plan, reference=reference), stream)
    print(
        f"{site}: realistic {rate:>10,.0f} normalizations/s  ({calls:,} calls, {unique:,} distinct, "
        f"{1 - unique / calls:.1%} cache hits, Zipf s={zipf})"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", choices=sorted(SITES), action="append", help="default: all")
    parser.add_argument("--distinct", type=int, default=20_000, help="distinct numbers (cold run and Zipf pool)")
    parser.add_argument("--calls", type=int, default=500_000, help="calls in the realistic run")
    parser.add_argument("--zipf", type=float, default=1.0, help="Zipf exponent of number popularity")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--reference", action="store_true", help="measure the reference (phonenumbers.parse) reading")
    args = parser.parse_args(argv)
    for site in args.site or sorted(SITES):
        bench(site, args.distinct, args.calls, args.zipf, args.seed, args.reference)


if __name__ == "__main__":
    main()
