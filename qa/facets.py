"""Facets of a set of search hits: how many of their cables come from each origin, year,
classification and tag, most first, so a reader sees where the hits lie and can filter.

>>> from cables.records import Cable
>>> a = Cable("09SHANGHAI374", "2009-08-28T09:03", "Consulate Shanghai", "CONFIDENTIAL",
...           ("ELAB", "PGOV"), "", (), "", (), "")
>>> b = Cable("07BEIJING2459", "2007-04-13T07:38", "Embassy Beijing", "CONFIDENTIAL",
...           ("PGOV",), "", (), "", (), "")
>>> facet_counts([a, b])["tag"], facet_counts([a, b])["year"]
([('PGOV', 2), ('ELAB', 1)], [('2009', 1), ('2007', 1)])
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from cables.records import Cable

FACETS = ("origin", "year", "classification", "tag")


def facet_counts(cables: Iterable[Cable]) -> dict[str, list[tuple[str, int]]]:
    """Cables counted by each facet (a cable counts once per value; one per tag it has)."""
    counts = {name: Counter() for name in FACETS}
    for cable in cables:
        counts["origin"][cable.origin or "unknown"] += 1
        counts["year"][cable.date[:4] or "unknown"] += 1
        counts["classification"][cable.classification or "unknown"] += 1
        counts["tag"].update(set(cable.tags))
    return {name: c.most_common() for name, c in counts.items()}
