"""Help in Chinese for what a user meets: errors, typos, English, searches that find nothing.

- **Errors.** The JSON API keeps its documented English ``error`` sentences; a browser
  gets the same error in Chinese (:func:`chinese`). Each known sentence is matched by its
  pattern and said again with its values; a sentence no pattern knows gets ``None`` (the
  page then says what the status means, and keeps the English folded under 技术信息).
- **Other ways.** A search that found nothing offers only other searches that do find
  something (:func:`suggestions`); an English query gets a Chinese example; a question
  with no answer gets the same help (:func:`answer_help`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from flask import current_app, url_for

from indexer.errors import PolicyQAError
from indexer.retrieve.hits import Filters
from webapp.config import examples
from webapp.params import SearchArgs
from webapp.presentation import MODE_LABELS, AnswerView, Link, search_url
from webapp.services import service

FILTER_NAMES = {"doc": "文档", "year": "年份", "region": "地区", "kind": "类型"}
PARAMETER_NAMES = {"k": "每页条数 k", "page": "页码 page", "q": "查询 q", "mode": "检索方式 mode",
                   "drop": "参数 drop", "hl": "参数 hl", **FILTER_NAMES}
WHAT = {"query": "查询", "question": "问题"}


def _name(name: str) -> str:
    return PARAMETER_NAMES.get(name, f"参数 {name}")


# How the value of a named group is said in Chinese; any other group is said as written.
GROUP_WORDS: dict[str, Callable[[str], str]] = {"what": WHAT.__getitem__, "name": _name}
BAD_MODE = "检索方式只能是 keyword（关键词）、semantic（语义）或 hybrid（混合），不能是 {mode}"

# (the English sentence's pattern, its Chinese): each named group of the pattern fills the
# field of that name in the Chinese, said as GROUP_WORDS says it.
SENTENCES: list[tuple[str, str]] = [
    (r"the (?P<what>query|question) is (?P<n>\d+) characters long; the limit is (?P<most>\d+)",
     "{what}有 {n} 个字，超过了 {most} 字的上限，请删减后再试"),
    (r"the (?P<what>query|question) is empty", "{what}是空的：请输入要查找的内容"),
    (r"nothing to search: .*",
     "没有可以查找的词：输入的内容只有标点、运算符或很常见的词，请换几个关键词"),
    (r"mode must be one of .*, not (?P<mode>.+)", BAD_MODE),
    (r"unknown mode (?P<mode>.+?): ", BAD_MODE),
    (r"(?P<name>\w+) must be a whole number from 1 to (?P<most>\d+), not (?P<value>.+)",
     "{name} 必须是 1 到 {most} 之间的整数，不能是 {value}"),
    (r"(?P<name>\w+) is given (?P<n>\d+) times; give it once", "{name} 出现了 {n} 次，只能给一次"),
    (r"(?P<name>\w+) must be a string", "{name} 必须是文字"),
    (r"(?P<name>\w+) is not text: .*", "{name} 不是有效的文字（含有孤立的代理字符）"),
    (r"(?P<n>\d+) filter values are given; the limit is (?P<most>\d+)",
     "筛选条件有 {n} 个，最多只能有 {most} 个"),
    (r"a (?P<name>\w+) filter is longer than (?P<most>\d+) characters",
     "{name}筛选条件超过了 {most} 个字"),
    (r"drop must be NAME:VALUE .*not (?P<value>.+)",
     "参数 drop 应写成“名称:值”（名称为 doc、year、region 或 kind），不能是 {value}"),
    (r"hl must be START-END character offsets with 0 ≤ START < END ≤ (?P<most>\d+), "
     r"not (?P<value>.+)",
     "参数 hl 应为“起点-终点”两个字符位置（0 ≤ 起点 < 终点 ≤ {most}），不能是 {value}"),
    (r"the address is not UTF-8 text", "网址不是 UTF-8 编码的文字"),
    (r"the query string is not UTF-8 text", "网址中的参数不是 UTF-8 编码的文字"),
    (r"there is no document with id (?P<id>.+) in the index", "索引中没有编号为 {id} 的文档"),
    (r"there is no passage with id (?P<id>.+) in the index", "索引中没有编号为 {id} 的片段"),
    (r"there is nothing at (?P<path>\S+): check the address", "{path} 没有内容：请检查网址"),
    (r"(?P<method>\w+) is not allowed at (?P<path>\S+)", "{path} 不接受 {method} 请求"),
    (r"the request body is larger than the limit of (?P<most>\d+) bytes",
     "提交的内容超过了 {most} 字节的上限"),
    (r"too many questions from your address: at most (?P<most>\d+) every (?P<every>[\d.]+) "
     r"seconds; try again in (?P<wait>\d+) s",
     "提问太频繁：每 {every} 秒最多 {most} 个问题，请 {wait} 秒后再试"),
    (r"this index has no vectors, so \w+ search is not available",
     "这个索引没有建立向量，不能用语义或混合检索：请改用关键词检索，或重新建立索引"),
    (r"the embedding model is not available",
     "语义模型不可用：请先运行 make model（或 python -m indexer model）"),
    (r".*`python -m indexer build`",
     "索引还没有建立，或需要重新建立：请在项目目录运行 python -m indexer build（或 make run）"),
    (r"another build or update is writing the index|an index update is already running",
     "另一个任务正在更新索引，请等它完成后再试"),
    (r"this server does not answer for the host", "这个服务器不响应请求中的主机名"),
    (r"something went wrong on the server", "服务器出错了，错误已记入日志"),
]
PATTERNS = [(re.compile(english), template) for english, template in SENTENCES]


def _said(match: re.Match[str], template: str) -> str:
    """``template`` with each field filled by the named group of ``match`` it names."""
    values = {name: GROUP_WORDS.get(name, str)(value)
              for name, value in match.groupdict().items()}
    return template.format(**values)


def chinese(message: str | None) -> str | None:
    """``message`` (an English error sentence of the service) in Chinese; None if unknown."""
    if not message:
        return None
    for pattern, template in PATTERNS:
        match = pattern.match(message)
        if match:
            return f"{_said(match, template)}。"
    return None


LATIN_WORDS = re.compile(r"[A-Za-z]{2,}")
HAN = re.compile(r"[\u3400-\u9fff]")


def is_foreign(text: str) -> bool:
    """True for a query written in Latin letters with no Chinese character (English)."""
    return bool(LATIN_WORDS.search(text)) and not HAN.search(text)


def foreign_example(query: str) -> Link | None:
    """For a query in Latin letters (that found nothing), a Chinese example query to try."""
    if not is_foreign(query):
        return None
    example = next(iter(examples(current_app)), "校车 安全")
    return Link(example, url_for("pages.search", q=example))


def _finds(args: SearchArgs) -> bool:
    """True when the search ``args`` describes finds at least one passage."""
    try:
        return service().search(args.q, args.mode, 1, 1, args.engine_filters())["total"] > 0
    except PolicyQAError:  # e.g. no vectors for a semantic search: not a way out
        return False


def suggestions(args: SearchArgs) -> list[Link]:
    """Other ways to search when nothing matched (without filters, in another mode):
    only those that find something, so a suggestion never leads to another empty page."""
    found = []
    if args.filters:
        found.append(("去掉所有筛选条件", replace(args, filters={}, page=1)))
    for mode, label in MODE_LABELS.items():
        if mode != args.mode and mode != "hybrid":
            found.append((f"改用{label}搜索", replace(args, mode=mode, page=1)))
    return [Link(label, search_url(other)) for label, other in found if _finds(other)]


def answer_help(view: AnswerView, data: dict[str, Any], question: str,
                mode: str | None) -> AnswerView:
    """Add to ``view`` the corrected question (from a keyword search of it) and, with no
    answer, other ways to ask: in keyword mode, as a search, a Chinese example."""
    try:
        searched = service().search(question, "keyword", 1, 1, Filters())
    except PolicyQAError:  # nothing to search in it: no correction to offer
        searched = {"suggestion": None, "total": 0}
    if searched["suggestion"]:
        view.suggestion = Link(searched["suggestion"],
                               url_for("pages.ask", q=searched["suggestion"], mode=mode))
    if data["answerable"]:
        return view
    if is_foreign(question) and not searched["total"]:
        example = next(iter(examples(current_app, "web_example_questions")), "")
        view.example = Link(example, url_for("pages.ask", q=example)) if example else None
    if data["mode"] != "keyword":
        view.tips.append(Link("改用关键词检索再问一次",
                              url_for("pages.ask", q=question, mode="keyword")))
    view.tips.append(Link("搜索这个问题，查看所有相关片段", url_for("pages.search", q=question)))
    return view
