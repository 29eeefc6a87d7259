"""Query time: the Retriever protocol, its keyword, vector and hybrid backends, the engine."""
