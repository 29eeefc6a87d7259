"""The commands behind ``python -m indexer``: each adds its arguments and runs.

Commands print for people by default and one JSON object with ``--json``.
"""

from __future__ import annotations

import argparse
import html
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from indexer import settings
from indexer.serialize import answer_dict, build_dict, document_dict, search_dict, skipped_dict

if TYPE_CHECKING:
    from indexer.retrieve.engine import Engine, Generation


def _emit_json(data: dict) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=1))


def _corpus_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("corpus", nargs="?", type=Path, default=None,
                   help="corpus folder or file (default: the corpus_dir setting)")


def add_inspect(p: argparse.ArgumentParser) -> None:
    _corpus_arg(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")


def run_inspect(args: argparse.Namespace) -> int:
    """Show each document's metadata, counts and repairs, and every skipped file."""
    from indexer.ingest.corpus import load_corpus

    started = time.perf_counter()
    corpus = load_corpus(args.corpus or settings.get("corpus_dir"))
    elapsed = time.perf_counter() - started
    if args.json:
        _emit_json({
            "documents": [document_dict(d, corpus.passages[d.doc_id],
                                        corpus.dropped_lines.get(d.doc_id))
                          for d in corpus.documents],
            "skipped": [skipped_dict(s) for s in corpus.skipped],
            "seconds": round(elapsed, 3),
        })
        return 0
    totals: dict[str, int] = {}
    for document in corpus.documents:
        passages = corpus.passages[document.doc_id]
        paragraphs = sum(1 for line in document.text.splitlines() if line.strip())
        print(f"{document.doc_id}  {document.title or '(untitled)'}")
        print(f"  issuer={document.issuer} region={document.region} year={document.year} "
              f"kind={document.kind} published={document.published}")
        print(f"  {len(document.text)} chars, {paragraphs} paragraphs, "
              f"{len(passages)} passages")
        repairs = {**document.repairs}
        if repairs:
            print("  repairs: " + ", ".join(f"{k}={v}" for k, v in repairs.items()))
        for key, value in repairs.items():
            totals[key] = totals.get(key, 0) + value
        totals["paragraphs"] = totals.get("paragraphs", 0) + paragraphs
        totals["passages"] = totals.get("passages", 0) + len(passages)
    for skipped in corpus.skipped:
        print(f"skipped {skipped.source}: {skipped.reason}")
    print(f"{len(corpus.documents)} documents, "
          + ", ".join(f"{k}={v}" for k, v in totals.items())
          + f", {len(corpus.skipped)} skipped, in {elapsed:.2f} s")
    return 0


def _index_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--index", type=Path, default=None,
                   help="index folder (default: the index_dir setting)")


def add_build(p: argparse.ArgumentParser) -> None:
    _corpus_arg(p)
    _index_arg(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")


def _run_build(args: argparse.Namespace, incremental: bool) -> int:
    from indexer.store.build import build

    report = build(args.corpus or settings.get("corpus_dir"),
                   args.index or settings.get("index_dir"), incremental=incremental)
    if args.json:
        _emit_json(build_dict(report))
        return 0
    for skipped in report.skipped:
        print(f"skipped {skipped.source}: {skipped.reason}")
    if report.up_to_date:
        print(f"index {report.generation} is up to date "
              f"({report.documents} documents, {report.passages} passages)")
        return 0
    print(f"generation {report.generation}: {report.documents} documents, "
          f"{report.passages} passages; added {len(report.added)}, changed "
          f"{len(report.changed)}, removed {len(report.removed)}, unchanged "
          f"{report.unchanged}; indexed {report.indexed_passages} passages "
          f"in {report.seconds:.1f} s"
          + (f" (new {', '.join(report.models_changed)})" if report.models_changed else ""))
    return 0


def run_build(args: argparse.Namespace) -> int:
    """Index the whole corpus into a new generation."""
    return _run_build(args, incremental=False)


def run_update(args: argparse.Namespace) -> int:
    """Re-index only added or changed documents; drop deleted ones."""
    return _run_build(args, incremental=True)


def _live_engine(args: argparse.Namespace) -> tuple[Engine, Generation]:
    """The engine over ``--index`` (default: the index_dir setting) and its live generation."""
    from indexer.retrieve.engine import Engine

    engine = Engine(args.index or settings.get("index_dir"))
    return engine, engine.generation()


def add_search(p: argparse.ArgumentParser) -> None:
    p.add_argument("query", help='what to look for, e.g. "校车 安全" or \'"片区合作共同体"\'')
    p.add_argument("--mode", default="keyword", choices=("keyword", "semantic", "hybrid"))
    p.add_argument("--k", type=int, default=10, help="hits per page")
    p.add_argument("--page", type=int, default=1)
    _index_arg(p)
    p.add_argument("--json", action="store_true", help="print the API's JSON")


def run_search(args: argparse.Namespace) -> int:
    """Print ranked passages with the query's words marked."""
    engine, generation = _live_engine(args)
    result = engine.search(args.query, mode=args.mode, k=args.k, page=args.page,
                           generation=generation)
    data = search_dict(result, generation.catalog)
    if args.json:
        _emit_json(data)
        return 0
    if result.message:
        print(result.message)
    print(f"{data['total']} passages match {args.query!r}")
    for hit in data["hits"]:
        marked = hit["highlight"].replace("<mark>", "[").replace("</mark>", "]")
        print(f"{hit['rank']:>3}. {hit['score']:.3f}  {hit['title']} · {hit['section']} "
              f"· 第{hit['paragraph_no']}段  ({hit['passage_id']})")
        print(f"     {html.unescape(marked)}")
    return 0


def add_model(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print one JSON object")


def run_model(args: argparse.Namespace) -> int:
    """Make the embedding model ready (convert the bundled one once) and say where it is."""
    from indexer.embed.embedder import resolve_model

    path = resolve_model()
    if args.json:
        _emit_json({"ok": True, "model": path})
    else:
        print(f"embedding model ready: {path}")
    return 0


def add_eval(p: argparse.ArgumentParser) -> None:
    p.add_argument("--corpus", type=Path,
                   help="passages .jsonl, or a corpus folder, to index in a temporary index")
    p.add_argument("--queries", type=Path, nargs="+", required=True,
                   help="question .jsonl file(s) with gold_pids (empty: not answerable)")
    p.add_argument("--split", help="only the questions whose split field has this value")
    p.add_argument("--index", type=Path, help="evaluate an existing index instead")
    p.add_argument("--modes", default="keyword,semantic,hybrid",
                   help="comma-separated modes (default: all three)")
    p.add_argument("--distractors", type=Path, help="passages .jsonl mixed in as distractors")
    p.add_argument("--distractor-count", type=int, default=3000,
                   help="how many distractor lines to mix in (default 3000)")
    p.add_argument("--no-answers", action="store_true",
                   help="measure retrieval only (skip the answer step)")
    p.add_argument("--json", action="store_true", help="print one JSON object")


def run_eval(args: argparse.Namespace) -> int:
    """Print recall@1/5/20, MRR@10 and answer figures for each mode."""
    from indexer.evaluate import evaluate
    from indexer.retrieve.engine import MODES

    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    unknown = [m for m in modes if m not in MODES]
    if unknown:
        raise ValueError(f"unknown mode(s) {', '.join(unknown)}: use {', '.join(MODES)}")
    result = evaluate(args.queries, modes, index=args.index, corpus=args.corpus,
                      distractors=args.distractors,
                      distractor_count=args.distractor_count if args.distractors else 0,
                      answers=not args.no_answers, split=args.split)
    if args.json:
        _emit_json(result)
        return 0
    print(f"{result['queries']} questions ({result['answerable']} answerable) over "
          f"{result['passages']} passages")
    for mode, scores in result["modes"].items():
        kinds = scores.pop("by_kind", {})
        print(f"{mode:>9}: " + "  ".join(f"{k}={v}" for k, v in scores.items()))
        for kind, figures in kinds.items():
            print(f"{kind:>13}: " + "  ".join(f"{k}={v}" for k, v in figures.items()))
    return 0


def _answer_args(p: argparse.ArgumentParser) -> None:
    """The options of a command that answers a question: ``--mode``, ``--index``, ``--json``."""
    p.add_argument("--mode", default=None, choices=("keyword", "semantic", "hybrid"),
                   help="how passages are ranked (default: hybrid when there are vectors)")
    _index_arg(p)
    p.add_argument("--json", action="store_true", help="print the API's JSON")


def add_ask(p: argparse.ArgumentParser) -> None:
    p.add_argument("question", help="a question in your own words")
    _answer_args(p)


def run_ask(args: argparse.Namespace) -> int:
    """Print the answer with numbered citations, then the passages it came from."""
    engine, generation = _live_engine(args)
    answer, mode = engine.ask(args.question, mode=args.mode, generation=generation)
    data = answer_dict(answer, generation.catalog, mode)
    if args.json:
        _emit_json(data)
        return 0
    if data["read_as"]:
        print(f"(read as: {data['read_as']})")
    if data["tentative"]:
        print("(tentative: the answer model is not sure of it; check the citations)")
    print(data["answer"])
    if data["refused_because"]:
        from indexer.answer.extract import REFUSALS

        print(f"({data['refused_because']}: {REFUSALS[data['refused_because']]})")
    for citation in data["citations"]:
        print(f"[{citation['n']}] 《{citation['title'] or citation['doc_id']}》"
              f"{citation['section']} 第{citation['paragraph_no']}段 "
              f"({citation['passage_id']}, {citation['start']}-{citation['end']})")
    if data["passages"]:
        print(f"passages ({mode}):")
    for hit in data["passages"]:
        snippet = " ".join(hit["text"].split())[:60]
        print(f"  {hit['rank']:>2}. {hit['passage_id']}  {snippet}…")
    return 0


def add_compare(p: argparse.ArgumentParser) -> None:
    p.add_argument("question", help="a question to put to every report")
    p.add_argument("--by", default="doc", choices=("doc", "region", "year"),
                   help="one answer per document (default), region or year")
    _answer_args(p)


def run_compare(args: argparse.Namespace) -> int:
    """Print what each report (region, year) says, or that it does not address it."""
    from indexer.answer.compare import compare
    from indexer.serialize import comparison_dict

    engine, generation = _live_engine(args)
    data = comparison_dict(compare(engine, args.question, args.by, args.mode, generation),
                           generation.catalog)
    if args.json:
        _emit_json(data)
        return 0
    for group in data["groups"]:
        print(f"== {group['label']}")
        if not group["answerable"]:
            print("   (does not address the question)")
        for citation in group["citations"]:
            print(f"   “{citation['quote']}” {citation['section']} 第{citation['paragraph_no']}段 "
                  f"({citation['passage_id']}, {citation['start']}-{citation['end']})")
    answered = sum(1 for group in data["groups"] if group["answerable"])
    print(f"{answered} of {len(data['groups'])} groups address it ({data['mode']})")
    return 0


def add_check(p: argparse.ArgumentParser) -> None:
    _index_arg(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")


def run_check(args: argparse.Namespace) -> int:
    """Check the live generation's files; print a summary, or each problem and exit non-zero."""
    from indexer.errors import IndexDamaged, IndexNotReady
    from indexer.store.check import examine_index, summary
    from indexer.store.generations import CURRENT

    index_dir = Path(args.index or settings.get("index_dir"))
    found = examine_index(index_dir)
    about = summary(found)
    code = 0
    if settings.get("index_backend") == "milvus":
        from indexer.milvus.client import where

        index_dir = f"Milvus at {where()}"
    if found.problems:
        built = found.name is not None or (Path(index_dir) / CURRENT).exists()
        code = IndexDamaged.exit_code if built else IndexNotReady.exit_code
    if args.json:
        data = {"ok": not found.problems, "index": str(index_dir), **about,
                "problems": found.problems}
        if found.problems:
            data.update(error="; ".join(found.problems), status=code)
        _emit_json(data)
        return code
    if not found.problems:
        model = f"model {about['model']} ({about['dimension']} dimensions)" \
            if about["model"] else "no vectors"
        print(f"ok: {about['generation']} in {index_dir}, {about['documents']} documents, "
              f"{about['passages']} passages, {model}, built {about['built_at']}")
        return 0
    if code == IndexNotReady.exit_code:
        print(found.problems[0])
        return code
    print(f"damaged: {about['generation'] or 'no live generation'} in {index_dir}")
    for problem in found.problems:
        print(f"  - {problem}")
    print("run `python -m indexer build` to rebuild it")
    return code


def add_settings(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--readme", type=Path, default=None,
                   help="rewrite the settings table in this README from the registry")


def run_settings(args: argparse.Namespace) -> int:
    """Print every setting with its value here, its default and its environment variable."""
    if args.readme:
        text = args.readme.read_text(encoding="utf-8")
        updated = settings.with_table(text)
        if updated != text:
            args.readme.write_text(updated, encoding="utf-8")
        print(f"{args.readme}: settings table {'rewritten' if updated != text else 'up to date'}")
        return 0
    rows = [{"name": s.name, "value": settings.shown_value(s.name), "default": str(s.default),
             "env": s.env_var, "help": s.help} for s in settings.REGISTRY.values()]
    if args.json:
        _emit_json({"ok": True, "settings": rows})
        return 0
    for row in rows:
        changed = "" if row["value"] == row["default"] else f"  (default {row['default']})"
        print(f"{row['name']} = {row['value']}{changed}\n    {row['help']} [{row['env']}]")
    return 0


Command = tuple[Callable[[argparse.ArgumentParser], None],
                Callable[[argparse.Namespace], int], str]

COMMANDS: dict[str, Command] = {
    "inspect": (add_inspect, run_inspect,
                "Show documents, metadata, passages and repairs of a corpus."),
    "build": (add_build, run_build, "Index the whole corpus into a new generation."),
    "update": (add_build, run_update,
               "Re-index added or changed documents and drop deleted ones."),
    "search": (add_search, run_search, "Search the live index."),
    "ask": (add_ask, run_ask, "Answer a question with cited sentences."),
    "compare": (add_compare, run_compare,
                "Answer a question once per document, region or year, side by side."),
    "eval": (add_eval, run_eval,
             "Measure retrieval and answers on questions with gold passages."),
    "model": (add_model, run_model,
              "Convert the bundled embedding model if needed and print its location."),
    "check": (add_check, run_check,
              "Check that the live index is whole; name each missing or damaged file."),
    "settings": (add_settings, run_settings,
                 "Show every setting's value, default and environment variable."),
}
