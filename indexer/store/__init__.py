"""Index generations on disk: the catalog, manifest, build/update and checks."""
