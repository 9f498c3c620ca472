"""Recall: passages of the whole story, found by full-text search, for the prompt.

``passages`` splits a turn into the sentences that are indexed, ``index`` keeps them in
SQLite's FTS5 (bm25 ranking; in memory or in a file beside the autosave, rebuilt from the
save when missing or stale), ``query`` picks the words to search for, ``recall.Recall``
ties them together for ``story.context.ContextBuilder``, and ``choose`` decides which
passages go in and which stay (the builder lays them out).
"""
