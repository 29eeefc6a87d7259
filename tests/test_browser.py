"""A real browser (Debian's headless Chromium, driven by Playwright) against the app
served by waitress on 127.0.0.1: search, open a hit, see the cited passage highlighted;
and a report made of ``<script>`` and ``onerror=`` markup shows as text, running nothing.

Screenshots of the pages land in the ignored ``bench/out/screenshots/``. Skipped, with the
reason, when ``/usr/bin/chromium`` or the ``playwright`` package is missing.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import (
    HOSTILE_DOC,
    HOSTILE_QUESTION,
    IMG,
    ROOT,
    SCRIPT,
    make_hostile_index,
    serving,
)

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = ROOT / "bench" / "out" / "screenshots"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = pytest.mark.slow

if not CHROMIUM.exists():
    pytest.skip("needs Debian's chromium (apt-get install -y chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api",
                               reason="needs the playwright pip package (pip install playwright)")


@pytest.fixture(scope="module")
def base_url(app):
    """The app served by waitress on an ephemeral loopback port, in a thread."""
    with serving(app) as url:
        yield url


@pytest.fixture(scope="module")
def hostile_url(tmp_path_factory):
    """The app over an index that holds a report made of script markup."""
    from webapp import create_app

    index = make_hostile_index(tmp_path_factory.mktemp("hostile"))
    with serving(create_app({"INDEX_DIR": index, "WEB_ASK_RATE": 0})) as url:
        yield url


@pytest.fixture(scope="module")
def browser_context(tmp_path_factory):
    """Headless Chromium with a fresh profile directory."""
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=str(CHROMIUM), headless=True, args=FLAGS,
            locale="zh-CN", viewport={"width": 1280, "height": 900})
        yield context
        context.close()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def page(browser_context):
    """A new tab that records console errors (a CSP violation shows up there) and dialogs."""
    tab = browser_context.new_page()
    tab.errors = []
    tab.dialogs = []
    tab.on("console", lambda m: tab.errors.append(m.text) if m.type == "error" else None)
    tab.on("pageerror", lambda exc: tab.errors.append(str(exc)))

    def dialog(opened) -> None:
        tab.dialogs.append(opened.message)
        opened.dismiss()

    tab.on("dialog", dialog)
    yield tab
    tab.close()


def shoot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=False)


def test_search_then_open_the_cited_passage(page, base_url, engine):
    page.goto(base_url + "/")
    assert page.title() == "首页 · 政策文档检索问答"
    shoot(page, "home")

    page.get_by_label("关键词或问题").fill("校车 安全")
    page.keyboard.press("Enter")
    page.wait_for_url("**/search?q=*")
    assert page.title() == "搜索：校车 安全 · 政策文档检索问答"
    first = page.locator("li.hit").first
    assert first.locator("h3").inner_text() == "句容市教育局2016年工作总结和2017年工作设想"
    assert first.locator("mark").first.inner_text() == "安全"
    shoot(page, "search")

    first.locator("h3 a").click()
    page.wait_for_url("**/documents/000_2b1971d50fbc2800?hl=*")
    passage = engine.generation().catalog.passages["000_2b1971d50fbc2800-debbb32e51"]
    assert page.url.endswith(f"?hl={passage.start}-{passage.end}#{passage.passage_id}")
    cited = page.locator("mark#cited")
    assert cited.inner_text() == passage.text
    assert "".join(page.locator("mark").all_inner_texts()) == passage.text
    assert cited.evaluate("el => { const r = el.getBoundingClientRect();"
                          " return r.top >= 0 && r.top < window.innerHeight; }")
    assert page.locator(f"#p{passage.paragraph_no} mark").count() >= 1
    assert page.locator(".current-passage").count() >= 1
    shoot(page, "document")
    assert page.errors == []


def test_ask_then_follow_a_citation(page, base_url, engine):
    question = "句容市2016年校安工程计划实施的总面积是多少？"
    page.goto(base_url + "/")
    page.get_by_label("关键词或问题").fill(question)
    page.get_by_label("检索方式").select_option("keyword")
    page.get_by_role("button", name="提问").click()
    page.wait_for_url("**/ask?q=*")
    assert page.title() == f"提问：{question} · 政策文档检索问答"
    assert "37.6万平方米" in page.locator(".answer").inner_text()
    marker = page.locator("a.marker").first
    preview = page.locator(".preview").first
    assert not preview.is_visible()
    marker.focus()  # keyboard users get the preview too
    assert preview.is_visible()
    quote = preview.locator("mark").inner_text()
    assert "37.6万平方米" in quote
    copy = page.locator("#c1 button.copy")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base_url)
    copy.click()
    sync_api.expect(copy).to_have_text("已复制")
    assert page.evaluate("navigator.clipboard.readText()") == (
        "《句容市教育局2016年工作总结和2017年工作设想》一、2016年工作总结 › "
        "(一)围绕重点工作,加大推进力度 › 二是加快校安工程和新建学校工程建设步伐 第10段")
    marker.hover()
    shoot(page, "answer")

    page.locator("#c1 .quote a").first.click()
    page.wait_for_url("**/documents/**?hl=*")
    cited = page.locator("mark#cited")
    assert "".join(page.locator("mark").all_inner_texts()) == quote
    assert cited.evaluate("el => { const r = el.getBoundingClientRect();"
                          " return r.top >= 0 && r.bottom <= window.innerHeight; }")
    assert page.locator(".outline a.here").count() >= 1
    assert page.errors == []


def test_phone_width_keeps_the_search_box_usable(browser_context, base_url):
    tab = browser_context.new_page()
    tab.set_viewport_size({"width": 390, "height": 844})
    tab.goto(base_url + "/search?q=" + "学校建设")
    box = tab.get_by_label("关键词或问题").bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    width = tab.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    shoot(tab, "search-phone")
    tab.close()


def test_keyboard_alone_searches_and_opens_a_result(page, base_url):
    page.goto(base_url + "/")
    assert page.evaluate("document.activeElement.id") == "q"  # the box has focus
    page.keyboard.type("县管校聘")
    page.keyboard.press("Enter")
    page.wait_for_url("**/search?q=*")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "跳到正文"
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("!!document.activeElement.closest('li.hit h3')"):
            break
    else:
        pytest.fail("no result link is reachable with Tab")
    page.keyboard.press("Enter")
    page.wait_for_url("**/documents/**?hl=*")
    assert page.locator("mark#cited").count() == 1


HOSTILE_PAGES = {
    "search": "/search?q=alert",
    "search-markup-query": f"/search?q=安全 {SCRIPT}{IMG}",
    "answer": f"/ask?q={HOSTILE_QUESTION}&mode=keyword",
    "document": f"/documents/{HOSTILE_DOC}",
    "document-highlighted": f"/documents/{HOSTILE_DOC}?hl=0-60",
}


@pytest.mark.parametrize("name", list(HOSTILE_PAGES))
def test_markup_in_a_report_or_query_runs_nothing_and_shows_as_text(page, hostile_url, name):
    from urllib.parse import quote

    page.goto(hostile_url + quote(HOSTILE_PAGES[name], safe="/?=&"))
    page.wait_for_load_state("load")
    text = page.locator("main").inner_text()
    assert SCRIPT in text or IMG in text, text[:500]
    if name != "search-markup-query":
        assert SCRIPT in text and IMG in text
    # Only the app's own script is in the page, and no element came from the markup.
    assert page.evaluate("[...document.scripts].map(s => s.getAttribute('src'))") == [
        "/static/app.js"]
    assert page.locator("main img, main script, [onerror]").count() == 0
    assert page.dialogs == []
    assert page.errors == []
