"""An editor in a real browser (Debian's headless Chromium, driven by Playwright) against
the app served by waitress on 127.0.0.1: sign in on /documents, choose a file, watch the
upload go through its stages, find a word of it, delete it, and it is gone; and the
answer page's copy choice and the comparison table, with no script error (strict CSP).

Skipped, with the reason, when ``/usr/bin/chromium`` or ``playwright`` is missing.
"""

from __future__ import annotations

import shutil
import time

import pytest

from tests.conftest import CORPUS, browser_api, build_keyword_index, serving, shoot

TOKEN = "browser-editor-token-7Yp"
WORD = "鲸鱼湾"
REPORT = (f"{WORD}县教育局2018年工作总结\n一、总体情况\n2018年，{WORD}县新建标准化足球场12块，"
          "开展校园足球联赛三次，参与学生达到5600人。\n二、下一步打算\n继续推进校园足球特色"
          "学校建设，力争新增特色学校8所。\n")

pytestmark = pytest.mark.slow
browser_api()


@pytest.fixture(scope="module")
def editor_url(tmp_path_factory):
    """The app with an admin token over a corpus copy and its keyword-only index; each
    build stage lingers a little, so the page's polling sees them."""
    from webapp import create_app
    from webapp.uploads import Job

    folder = tmp_path_factory.mktemp("browser-upload")
    shutil.copytree(CORPUS, folder / "corpus")
    build_keyword_index(folder / "corpus", folder / "index")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("POLICYQA_VECTORS_ENABLED", "false")
        shown = Job.stage

        def slow_stage(self, name, done, total):
            shown(self, name, done, total)
            time.sleep(0.6)

        patch.setattr(Job, "stage", slow_stage)
        app = create_app({"INDEX_DIR": folder / "index", "CORPUS_DIR": folder / "corpus",
                          "WEB_ADMIN_TOKEN": TOKEN, "WEB_ASK_RATE": 0})
        with serving(app) as url:
            yield url


def search_titles(page, base: str) -> set[str]:
    """The titles of the reports whose passages a search for WORD finds."""
    page.goto(f"{base}/search?q={WORD}")
    return set(page.locator("li.hit h3").all_inner_texts())


def test_sign_in_upload_search_delete(page, editor_url):
    page.goto(editor_url + "/documents")
    assert page.locator("#upload-form").count() == 0
    page.locator("details.sign-in summary").click()
    page.get_by_label("管理令牌").fill(TOKEN)
    page.get_by_role("button", name="登录").click()
    page.wait_for_selector("#upload-form")
    cookie = next(c for c in page.context.cookies() if c["name"] == "policyqa_editor")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"

    page.set_input_files("#upload-files", files=[
        {"name": "鲸鱼湾工作总结.txt", "mimeType": "text/plain", "buffer": REPORT.encode()},
        {"name": "空白.txt", "mimeType": "text/plain", "buffer": b""}])
    assert page.locator("#upload-chosen").inner_text() == "鲸鱼湾工作总结.txt、空白.txt"
    page.evaluate("""() => {
        window.seenStages = [];
        const list = document.getElementById("upload-progress");
        new MutationObserver(() => {
            const on = list.querySelector("li.active");
            const name = on ? on.dataset.stage : null;
            if (name && window.seenStages[window.seenStages.length - 1] !== name) {
                window.seenStages.push(name);
            }
        }).observe(list, {attributes: true, subtree: true, childList: true,
                          characterData: true});
    }""")
    page.get_by_role("button", name="上传并建立索引").click()
    page.wait_for_selector("#upload-progress li[data-stage=done].finished", timeout=60_000)
    shoot(page, "upload")
    seen = page.evaluate("window.seenStages")
    assert seen[0] == "upload" and "reading" in seen and "indexing" in seen, seen
    assert page.locator("#upload-progress progress").get_attribute("value") == "100"
    assert page.locator("#upload-progress li[data-stage=indexing] .count").inner_text() \
        .endswith("个片段")
    assert page.locator("#upload-progress li[data-stage=done] .count").inner_text() == \
        "新增 1 篇，跳过 1 个文件"
    result = page.locator("#upload-result")
    assert result.locator("ul.added a").inner_text() == f"{WORD}县教育局2018年工作总结"
    assert result.locator("ul.skipped li").inner_text() == "空白.txt：empty file"
    row = page.locator("#document-rows tr").last
    doc_id = row.get_attribute("data-doc")
    assert row.locator("td").first.inner_text() == f"{WORD}县教育局2018年工作总结"

    assert search_titles(page, editor_url) == {f"{WORD}县教育局2018年工作总结"}

    page.goto(editor_url + "/documents")
    button = page.locator(f"tr[data-doc='{doc_id}'] form.delete-form button")
    button.click()
    assert button.inner_text() == "确认删除"  # a second press deletes
    button.click()
    page.wait_for_selector(f"tr[data-doc='{doc_id}']", state="detached")
    assert page.locator("p.notice").first.inner_text() == f"已删除文档 {doc_id}，索引已更新。"

    assert search_titles(page, editor_url) == set()
    page.goto(f"{editor_url}/documents/{doc_id}")
    assert page.title().startswith("找不到")
    assert [e for e in page.errors if "404" not in e] == []


def test_a_refused_upload_says_why(page, editor_url):
    page.goto(editor_url + "/documents")
    if page.locator("#upload-form").count() == 0:  # a fresh context: sign in
        page.locator("details.sign-in summary").click()
        page.get_by_label("管理令牌").fill(TOKEN)
        page.get_by_role("button", name="登录").click()
        page.wait_for_selector("#upload-form")
    page.set_input_files("#upload-files", files=[
        {"name": "照片.txt", "mimeType": "text/plain",
         "buffer": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"}])
    page.get_by_role("button", name="上传并建立索引").click()
    notice = page.locator("#upload-result p.notice")
    notice.wait_for()
    assert notice.inner_text() == ("上传失败（415）：照片.txt is a PNG image; we read txt, md, "
                                   "html, pdf, docx and jsonl")
    assert page.errors == [] or all("415" in e for e in page.errors)


@pytest.fixture(scope="module")
def model_url(app):
    """The app over the session's model index (every mode), served by waitress."""
    with serving(app) as url:
        yield url


def test_answer_page_copies_the_reference_and_links_the_comparison(page, model_url, engine):
    question = "学生每学期接受安全教育不少于多少课时？"
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=model_url)
    page.goto(f"{model_url}/ask?q={question}")
    menu = page.locator("details.copy-choice").first
    assert menu.is_visible()
    menu.locator("summary").click()
    menu.get_by_role("button", name="引文 + GB/T 7714 参考文献").click()
    copied = page.evaluate("navigator.clipboard.readText()")
    quote, reference = copied.split("\n")
    assert quote.startswith("“") and quote.endswith("”[1]")
    assert reference.startswith("[1] 吉林市教育局. 吉林市教育局2016年工作要点[EB/OL]. "
                                "(2016-03-17)[")
    menu.get_by_role("button", name="仅引文").click()
    assert page.evaluate("navigator.clipboard.readText()") == quote.removesuffix("[1]")

    page.get_by_role("link", name="对比各报告怎么说").click()
    page.wait_for_url("**/compare?q=*")
    rows = page.locator("table.compare tbody tr")
    assert rows.count() == len(engine.generation().catalog.documents)
    assert page.locator("table.compare tr.answered").count() == 1
    shoot(page, "compare")
    page.locator("table.compare tr.answered td .quote a").click()
    page.wait_for_url("**/documents/001_4827853948cbae87?hl=*")
    assert "8课时" in page.locator("mark#cited").inner_text()
    assert page.errors == []
