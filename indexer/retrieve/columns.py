"""A keyword index's facet values per passage, as numpy codes.

Counting a query's matches by document, year and region is then a ``bincount`` over the
matching document numbers, however many thousands of passages match.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from indexer.retrieve.protocol import UNKNOWN, Matches
from indexer.store.catalog import Catalog


def _coded(values: list[str]) -> tuple[list[str], np.ndarray]:
    """The distinct values (sorted) and each position's index into them."""
    names, codes = np.unique(np.asarray(values, dtype=object).astype(str),
                             return_inverse=True)
    return names.tolist(), codes.astype(np.int32)


def _counted(names: list[str], codes: np.ndarray) -> list[tuple[str, int]]:
    """(name, count) of each name that occurs in ``codes``."""
    counts = np.bincount(codes, minlength=len(names))
    present = np.flatnonzero(counts)
    return [(names[c], int(counts[c])) for c in present.tolist()]


class FacetColumns:
    """Each passage's document and years (Whoosh columns, by document number) and each
    document's region (from the catalog: the name as written, "未知" if none)."""

    def __init__(self, reader, catalog: Catalog):
        def column(name: str) -> list[str]:
            if not reader.doc_count_all():  # an index of nothing has no columns
                return []
            return [v.decode("utf-8") if isinstance(v, bytes) else v
                    for v in reader.column_reader(name)]

        self.doc_names, self.doc_codes = _coded(column("doc_id"))
        self.year_names, self.year_codes = _coded(column("year"))
        regions = []
        for doc_id in self.doc_names:
            document = catalog.documents.get(doc_id)
            regions.append((document.region if document else None) or UNKNOWN)
        self.region_names, self.region_of_doc = _coded(regions)

    def matches(self, ids: np.ndarray) -> Matches:
        """The counts of the passages numbered ``ids`` (every one: exact)."""
        docs = self.doc_codes[ids]
        per_doc = Counter(dict(_counted(self.doc_names, docs)))
        per_year: Counter[str] = Counter()
        for joined, count in _counted(self.year_names, self.year_codes[ids]):
            for year in joined.split():
                per_year[year] += count
        per_region = Counter(dict(_counted(self.region_names, self.region_of_doc[docs])))
        return Matches(per_doc, len(ids), True, per_year, per_region)
