"""Hypothesis strategies for near-valid documents, shared by the importer and lorebook fuzz
tests."""

from __future__ import annotations

from hypothesis import strategies as st


def near_valid(base: dict[str, object], values: st.SearchStrategy[object]
               ) -> st.SearchStrategy[dict[str, object]]:
    """Objects shaped like ``base``: each field of a good one may be missing, kept or replaced
    by anything from ``values``."""
    def field(v: object) -> st.SearchStrategy[object]:
        good = v if isinstance(v, st.SearchStrategy) else st.just(v)
        # Mostly good, to reach the deeper code (one_of would pick each branch equally).
        return st.integers(0, 9).flatmap(lambda i: good if i else values)

    fields = {k: field(v) for k, v in base.items()}
    every = st.fixed_dictionaries(fields)
    return st.one_of(every, every, st.fixed_dictionaries({}, optional=fields))
