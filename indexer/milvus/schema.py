"""The collections of one generation in Milvus: their fields and indexes.

Keyword search is portable by design: the text is segmented here, by the same analyzer
as the Whoosh side (folded words and their sub-words), and stored space-joined in
``words``, which Milvus reads with its ``standard`` analyzer (split on spaces) into the
BM25 sparse vector. Milvus's own jieba differs between milvus-lite and a server, so it is
never used. Which passages match is decided on ``terms`` (the distinct words) and
``pairs`` (each two neighbouring words joined, so a phrase such as "2016年" is found as
its pairs) with ``ARRAY_CONTAINS``: a server answers it from an inverted index, and
milvus-lite checks a list per row, where ``TEXT_MATCH`` would re-tokenize every row's
text for every word asked. Every token is alphanumeric (others are spelt in hex by
:func:`indexer.milvus.query.token`), so Milvus never splits one.
"""

from __future__ import annotations

import logging

from indexer import settings

log = logging.getLogger(__name__)

MAX_ID = 512
MAX_TEXT = 65535  # bytes: the largest VarChar Milvus stores
CHUNK_BYTES = 60000  # a document or catalog chunk in the store collection
MAX_YEARS = 64
MAX_TERMS = 4096  # distinct words (or pairs) of one passage
MAX_TERM = 128  # bytes of one word or pair; a longer one is not kept for matching
# Milvus needs a vector in every collection: the store and control collections carry a
# constant two-dimensional one.
PLACEHOLDER = [1.0, 0.0]


def _bm25_params() -> dict:
    return {"bm25_k1": settings.get("keyword_bm25_k1"),
            "bm25_b": settings.get("keyword_bm25_b")}


def create_passages(client, name: str, dimension: int | None) -> None:
    """The passage collection: one row per passage, in catalog order (``ordinal``)."""
    from pymilvus import DataType, Function, FunctionType

    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("passage_id", DataType.VARCHAR, is_primary=True, max_length=MAX_ID)
    schema.add_field("ordinal", DataType.INT64)
    schema.add_field("doc_id", DataType.VARCHAR, max_length=MAX_ID)
    schema.add_field("years", DataType.ARRAY, element_type=DataType.VARCHAR,
                     max_capacity=MAX_YEARS, max_length=16)
    schema.add_field("region", DataType.VARCHAR, max_length=MAX_ID)
    schema.add_field("kind", DataType.VARCHAR, max_length=MAX_ID)
    schema.add_field("record", DataType.JSON)  # the passage as the catalog holds it
    schema.add_field("words", DataType.VARCHAR, max_length=MAX_TEXT, enable_analyzer=True,
                     analyzer_params={"type": "standard"})
    for field in ("terms", "pairs"):
        schema.add_field(field, DataType.ARRAY, element_type=DataType.VARCHAR,
                         max_capacity=MAX_TERMS, max_length=MAX_TERM)
    schema.add_field("bm25", DataType.SPARSE_FLOAT_VECTOR)
    schema.add_function(Function(name="words_bm25", function_type=FunctionType.BM25,
                                 input_field_names=["words"], output_field_names=["bm25"]))
    index = client.prepare_index_params()
    index.add_index("bm25", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25",
                    params=_bm25_params())
    _vector_field(schema, index, dimension)
    client.create_collection(name, schema=schema, index_params=index)
    for field in ("terms", "pairs"):  # a server indexes them; milvus-lite scans
        terms = client.prepare_index_params()
        terms.add_index(field, index_type="INVERTED")
        try:
            client.create_index(name, terms)
        except Exception as exc:  # noqa: BLE001 (milvus-lite has no index on arrays)
            log.debug("no inverted index on %s: %s", field, exc)


def create_sentences(client, name: str, dimension: int) -> None:
    """The sentence collection: one vector per answerable sentence, by passage."""
    from pymilvus import DataType

    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("row", DataType.INT64, is_primary=True)
    schema.add_field("passage_id", DataType.VARCHAR, max_length=MAX_ID)
    schema.add_field("start", DataType.INT64)
    schema.add_field("end", DataType.INT64)
    schema.add_field("doc_id", DataType.VARCHAR, max_length=MAX_ID)
    schema.add_field("years", DataType.ARRAY, element_type=DataType.VARCHAR,
                     max_capacity=MAX_YEARS, max_length=16)
    index = client.prepare_index_params()
    _vector_field(schema, index, dimension)
    client.create_collection(name, schema=schema, index_params=index)


def create_blobs(client, name: str) -> None:
    """A collection of named texts cut into chunks (store and control)."""
    from pymilvus import DataType

    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("key", DataType.VARCHAR, is_primary=True, max_length=MAX_ID)
    schema.add_field("name", DataType.VARCHAR, max_length=MAX_ID)
    schema.add_field("chunk", DataType.INT64)
    schema.add_field("data", DataType.VARCHAR, max_length=MAX_TEXT)
    schema.add_field("placeholder", DataType.FLOAT_VECTOR, dim=len(PLACEHOLDER))
    index = client.prepare_index_params()
    index.add_index("placeholder", index_type="FLAT", metric_type="L2")
    client.create_collection(name, schema=schema, index_params=index)


def _vector_field(schema, index, dimension: int | None) -> None:
    """The dense vector (or, for an index built without vectors, the placeholder)."""
    from pymilvus import DataType

    if dimension:
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dimension)
        index.add_index("vector", index_type="HNSW", metric_type="COSINE",
                        params={"M": settings.get("vector_hnsw_m"), "efConstruction": 200})
    else:
        schema.add_field("placeholder", DataType.FLOAT_VECTOR, dim=len(PLACEHOLDER))
        index.add_index("placeholder", index_type="FLAT", metric_type="L2")
