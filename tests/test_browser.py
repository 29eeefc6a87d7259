"""A real browser (Debian's headless Chromium, driven by Playwright) against the app
served by waitress on 127.0.0.1: search, open a hit, see the cited passage highlighted;
and a report made of ``<script>`` and ``onerror=`` markup shows as text, running nothing.

Screenshots of the pages land in ``bench/out/screenshots/`` (ignored by git). Skipped,
with the reason, when ``/usr/bin/chromium`` or the ``playwright`` package is missing.
"""

from __future__ import annotations

from urllib.parse import parse_qs, quote, urlsplit

import pytest

from tests.conftest import (
    HOSTILE_DOC,
    HOSTILE_QUESTION,
    IMG,
    SAFETY_DOC,
    SAFETY_PASSAGE,
    SCRIPT,
    browser_api,
    chromium,
    make_hostile_index,
    serving,
    shoot,
    tab_fixture,
)

PHONE = {"width": 390, "height": 844}
AREA_QUESTION = "句容市2016年校安工程计划实施的总面积是多少？"

pytestmark = pytest.mark.slow
sync_api = browser_api()


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
def phone_context(playwright, tmp_path_factory):
    """A phone: 390×844, touch only."""
    with chromium(playwright, tmp_path_factory.mktemp("chromium-phone"),
                  viewport=PHONE, has_touch=True, is_mobile=True,
                  device_scale_factor=2) as context:
        yield context


phone = tab_fixture("phone_context", "A phone tab (see :func:`new_tab`).")


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
    page.wait_for_url(f"**/documents/{SAFETY_DOC}?hl=*")
    passage = engine.generation().catalog.passages[SAFETY_PASSAGE]
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
    quoted = preview.locator("mark").inner_text()
    assert "37.6万平方米" in quoted
    copy = page.locator("#c1 button.copy").first
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base_url)
    copy.click()
    sync_api.expect(copy).to_have_text("已复制")
    link = page.locator("#c1 .quote a").first.get_attribute("href")
    assert link.startswith(f"/documents/{SAFETY_DOC}?hl=")
    # The quote, then title, issuer, date, section, paragraph and the full link.
    assert page.evaluate("navigator.clipboard.readText()") == (
        f"“{quoted}”——《句容市教育局2016年工作总结和2017年工作设想》，句容市教育局，"
        "2017-03-22，一、2016年工作总结 › (一)围绕重点工作,加大推进力度 › "
        f"二是加快校安工程和新建学校工程建设步伐，第10段。{base_url}{link}")
    marker.hover()
    shoot(page, "answer")

    page.locator("#c1 .quote a").first.click()
    page.wait_for_url("**/documents/**?hl=*")
    cited = page.locator("mark#cited")
    assert "".join(page.locator("mark").all_inner_texts()) == quoted
    assert cited.evaluate("el => { const r = el.getBoundingClientRect();"
                          " return r.top >= 0 && r.bottom <= window.innerHeight; }")
    assert page.locator(".outline a.here").count() >= 1
    assert page.errors == []


def test_a_malformed_fragment_still_shows_the_cited_passage(page, base_url, engine):
    passage = engine.generation().catalog.passages[SAFETY_PASSAGE]
    page.goto(f"{base_url}/documents/{SAFETY_DOC}?hl={passage.start}-{passage.end}#%E0%A4%A")
    cited = page.locator("mark#cited")
    assert cited.inner_text() == passage.text
    assert page.evaluate("document.activeElement.id") == "cited"  # focused, as with a
    assert cited.evaluate("el => { const r = el.getBoundingClientRect();"  # valid fragment
                          " return r.top >= 0 && r.top < window.innerHeight; }")
    shaded = page.locator(".current-passage")
    assert shaded.count() >= 1
    assert set(shaded.evaluate_all("els => els.map(e => e.dataset.passage)")) == {
        SAFETY_PASSAGE}
    assert page.errors == []
    page.evaluate("window.location.hash = '%'")  # a later malformed change: still no error
    page.wait_for_timeout(100)
    assert page.errors == []


def test_a_malformed_fragment_keeps_the_copy_button(page, base_url):
    page.goto(f"{base_url}/ask?q={quote(AREA_QUESTION)}&mode=keyword#%")
    sync_api.expect(page.locator("#c1 button.copy").first).to_be_visible()
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


# -- what users meet: words typed together, help, long pastes, a phone ----------------------

def overflowing(tab) -> list[str]:
    """The elements that reach past the right edge of the viewport."""
    return tab.evaluate("""() => [...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5)
        .map(e => e.tagName + '.' + e.className)""")


def test_words_typed_together_are_found_with_both_marked(page, base_url):
    page.goto(base_url + "/search?q=" + quote("校车安全"))
    assert page.locator("li.hit").count() > 0
    marks = set(page.locator("li.hit mark").all_inner_texts())
    assert {"校车", "安全"} <= marks
    summary = page.locator("li.hit details.scores summary").first.inner_text()
    assert summary == "排名：关键词第1"
    shoot(page, "search-typed-together")
    assert page.errors == []


def test_help_on_a_typo_and_on_english(page, base_url):
    page.goto(base_url + "/search?q=" + quote("送教上们"))
    suggestion = page.locator(".did-you-mean a")
    assert suggestion.inner_text() == "送教上门"
    shoot(page, "search-did-you-mean")
    page.goto(base_url + "/search?q=" + quote("school bus"))
    help_text = page.locator(".no-results").inner_text()
    assert "本系统只收录中文报告，请用中文关键词，例如：校车 安全" in help_text
    assert "换一种写法" not in help_text
    shoot(page, "search-english")
    page.locator(".no-results .foreign a").click()
    page.wait_for_url("**/search?q=*")
    assert page.locator("li.hit").count() > 0
    assert page.errors == []


@pytest.mark.parametrize(("button", "what"), [("搜索", "查询"), ("提问", "问题")])
def test_a_long_paste_is_counted_and_refused_in_chinese(phone, base_url, button, what):
    phone.goto(base_url + "/")
    box = phone.get_by_label("关键词或问题")
    box.fill("校" * 627)
    assert len(box.input_value()) == 627  # nothing cut silently
    counter = phone.locator("#q-count")
    sync_api.expect(counter).to_have_text("627/500：超过了 500 字的上限，请删减 127 个字。")
    phone.get_by_role("button", name=button, exact=True).click()
    sync_api.expect(counter).to_have_text(
        f"{what}有 627 个字，超过了 500 字的上限，请删减 127 个字后再提交。")
    assert phone.url == base_url + "/"  # not sent
    assert overflowing(phone) == []
    shoot(phone, "long-paste-phone")
    box.fill("校" * 500)
    sync_api.expect(counter).to_have_text("500/500")
    assert phone.errors == []


def test_the_automatic_mode_stays_automatic(page, base_url):
    page.goto(base_url + "/search?q=" + quote("校车"))
    mode = page.get_by_label("检索方式")
    assert mode.input_value() == ""  # still 自动, not 关键词
    page.get_by_label("关键词或问题").fill("吉林市什么时候完成非专用校车更新？")
    page.get_by_role("button", name="提问").click()
    page.wait_for_url("**/ask?q=*")
    assert parse_qs(urlsplit(page.url).query).get("mode", [""]) == [""]  # not keyword
    assert page.get_by_label("检索方式").input_value() == ""


def test_a_tap_shows_a_citation_preview_on_a_phone(phone, base_url):
    phone.goto(f"{base_url}/ask?q={quote(AREA_QUESTION)}&mode=keyword")
    marker = phone.locator("a.marker").first
    preview = phone.locator(".preview").first
    assert not preview.is_visible()
    marker.tap()
    sync_api.expect(preview).to_be_visible()
    assert urlsplit(phone.url).fragment == ""  # the tap did not jump to the citation
    box = preview.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    assert "37.6万平方米" in preview.inner_text()
    assert overflowing(phone) == []
    shoot(phone, "answer-phone")
    marker.tap()  # a second tap follows the link
    phone.wait_for_url("**#c1")
    assert phone.errors == []


def test_the_document_list_fits_a_phone(phone, base_url):
    phone.goto(base_url + "/documents")
    assert overflowing(phone) == []
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    labels = phone.evaluate("""() => [...document.querySelectorAll(
        'table.documents tbody tr:first-child td[data-label]')].map(
        td => getComputedStyle(td, '::before').content)""")
    assert '"检索片段"' in labels  # a card: each cell under its heading
    shoot(phone, "documents-phone")


def test_screenshots_of_the_pages_that_help(page, phone, base_url):
    """Desktop and phone screenshots of the pages that help (looked at by a person)."""
    pages = {
        "no-answer": "/ask?q=" + quote("火星探测器什么时候发射？"),
        "past-the-end": "/search?q=" + quote("教师") + "&page=9",
        "pages": "/search?q=" + quote("教师"),
        "unknown-region": "/search?q=" + quote("教师") + "&region=" + quote("未知"),
        "error-long": "/search?q=" + "校" * 627,
        "home": "/",
    }
    for name, path in pages.items():
        for tab, suffix in ((page, ""), (phone, "-phone")):
            tab.goto(base_url + path)
            if name == "pages":
                tab.locator("nav.pagination").scroll_into_view_if_needed()
            shoot(tab, name + suffix)
            assert overflowing(tab) == [] or tab is page, (name, overflowing(tab))
    for tab in (page, phone):  # the error page's own 400 is logged; nothing else may be
        assert [e for e in tab.errors if "status of 400" not in e] == []
