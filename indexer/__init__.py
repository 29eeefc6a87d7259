"""Policy-report indexing and retrieval: corpus pipeline, keyword and vector search, answers.

Nothing heavy happens at import: models, indexes and dictionaries load on first use.
"""
