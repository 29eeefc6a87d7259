"""Adding and removing reports: the API with the admin token, and an editor's session.

Each test gets its own copy of the bundled corpus and of a keyword-only index of it (no
model), so an upload or a delete changes nothing another test sees. Refusals are checked
to leave the corpus folder and the live generation exactly as they were.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import zipfile
from http.cookies import SimpleCookie
from pathlib import Path

import pytest

from tests.conftest import CORPUS, assert_error_shape, build_keyword_index
from webapp import create_app

TOKEN = "upload-token-4kQ9"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
WORD = "鲸鱼湾"  # in no bundled report
REPORT = (f"{WORD}县教育局2018年工作总结\n一、总体情况\n2018年，{WORD}县新建标准化足球场12块，"
          "开展校园足球联赛三次，参与学生达到5600人。\n二、下一步打算\n继续推进校园足球特色"
          "学校建设，力争新增特色学校8所。\n").encode()


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """A corpus copy and its keyword-only index, built once; tests copy both."""
    folder = tmp_path_factory.mktemp("upload-base")
    shutil.copytree(CORPUS, folder / "corpus")
    build_keyword_index(folder / "corpus", folder / "index")
    return folder


@pytest.fixture
def place(base, tmp_path, monkeypatch):
    """This test's corpus folder and index (copies of ``base``); updates make no vectors."""
    monkeypatch.setenv("POLICYQA_VECTORS_ENABLED", "false")
    shutil.copytree(base / "corpus", tmp_path / "corpus")
    shutil.copytree(base / "index", tmp_path / "index")
    return tmp_path


def make_app(place: Path, **config):
    return create_app({"TESTING": True, "INDEX_DIR": place / "index",
                       "CORPUS_DIR": place / "corpus", "WEB_ADMIN_TOKEN": TOKEN,
                       "WEB_ASK_RATE": 0, **config})


@pytest.fixture
def client(place):
    return make_app(place).test_client()


def upload(client, *files, headers=AUTH, **extra):
    """POST /api/documents with ``(bytes, name)`` files."""
    data = {"file": [(io.BytesIO(content), name) for content, name in files], **extra}
    return client.post("/api/documents", headers=headers, data=data,
                       content_type="multipart/form-data")


def listing(place: Path) -> dict[str, bytes]:
    """Every file under the corpus folder and its bytes (hidden ones too)."""
    root = place / "corpus"
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


def generation(client) -> str:
    return client.get("/api/health").get_json()["generation"]


def found(client, query: str) -> set[str]:
    return {hit["doc_id"] for hit in client.get("/api/search", query_string={"q": query})
            .get_json()["hits"]}


def docx(text: str, padding: int = 0) -> bytes:
    """A minimal .docx; ``padding`` spaces in its XML make it unpack large, zip small."""
    body = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            f'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/'
            f'main"><w:body><w:p><w:r><w:t>{text}</w:t></w:r></w:p>{" " * padding}'
            f'</w:body></w:document>')
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://'
                         'schemas.openxmlformats.org/package/2006/content-types"><Default '
                         'Extension="rels" ContentType="application/vnd.openxmlformats-'
                         'package.relationships+xml"/><Override PartName="/word/document.'
                         'xml" ContentType="application/vnd.openxmlformats-officedocument.'
                         'wordprocessingml.document.main+xml"/></Types>')
        archive.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships xmlns="http://'
                         'schemas.openxmlformats.org/package/2006/relationships"><Relationship '
                         'Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/'
                         '2006/relationships/officeDocument" Target="word/document.xml"/>'
                         '</Relationships>')
        archive.writestr("word/document.xml", body)
    return buffer.getvalue()


# -- adding, finding, removing ------------------------------------------------------------

def test_upload_search_delete_round_trip(client, place):
    before = generation(client)
    response = upload(client, (REPORT, "鲸鱼湾报告.txt"))
    assert response.status_code == 201, response.get_json()
    data = response.get_json()
    (entry,) = data["documents"]
    assert set(data) == {"ok", "generation", "documents", "skipped"} and data["skipped"] == []
    assert entry["status"] == "added" and entry["file"] == "鲸鱼湾报告.txt"
    assert entry["title"] == f"{WORD}县教育局2018年工作总结" and entry["passages"] >= 1
    stored = f"{entry['doc_id']}.txt"
    assert entry["source"] == stored and (place / "corpus" / stored).read_bytes() == REPORT
    assert data["generation"] != before == before
    assert generation(client) == data["generation"]
    assert found(client, WORD) == {entry["doc_id"]}
    document = client.get(f"/api/documents/{entry['doc_id']}").get_json()["document"]
    assert document["source"] == stored

    removed = client.delete(f"/api/documents/{entry['doc_id']}", headers=AUTH)
    assert removed.status_code == 200
    assert removed.get_json() == {"ok": True, "removed": entry["doc_id"],
                                  "generation": generation(client)}
    assert not (place / "corpus" / stored).exists()
    assert found(client, WORD) == set()
    assert_error_shape(client.get(f"/api/documents/{entry['doc_id']}"), 404)
    assert_error_shape(client.delete(f"/api/documents/{entry['doc_id']}", headers=AUTH), 404)


def test_every_format_by_content(client, place):
    html = (f"<!doctype html><html><head><title>{WORD}网页报告</title></head><body><article>"
            f"<h1>{WORD}网页报告</h1><p>{WORD}市今年新建学校3所，改善了城区学位紧张的"
            "状况，受到家长普遍欢迎。</p></article></body></html>").encode()
    bulk = "\n".join(json.dumps({"id": f"bulk-{n}", "title": f"{WORD}批量{n}", "text":
                                 f"{WORD}第{n}份报告：全年培训教师{n}00人次，效果良好。"},
                                ensure_ascii=False) for n in (1, 2)).encode()
    response = upload(client, (html, "page.html"), (bulk, "bulk.jsonl"),
                      (docx(f"{WORD}文档报告：全区新增学位800个。"), "word.docx"),
                      (REPORT.decode().replace(WORD, "鲸鱼港").encode("gb18030"), "notes"))
    assert response.status_code == 201, response.get_json()
    data = response.get_json()
    assert data["skipped"] == []
    by_file = {}
    for entry in data["documents"]:
        by_file.setdefault(entry["file"], []).append(entry)
    assert sorted(by_file) == ["bulk.jsonl", "notes", "page.html", "word.docx"]
    assert sorted(e["doc_id"] for e in by_file["bulk.jsonl"]) == ["bulk-1", "bulk-2"]
    assert by_file["notes"][0]["source"].endswith(".txt")  # no name: text by content
    stored = {Path(name).suffix for name in listing(place)} - {".txt"}
    assert stored == {".html", ".jsonl", ".docx"}
    assert len(found(client, WORD)) == 4  # html, two bulk lines, docx
    assert found(client, "鲸鱼港") == {by_file["notes"][0]["doc_id"]}  # GB18030, decoded


def test_the_same_file_twice_is_unchanged(client, place):
    first = upload(client, (REPORT, "a.txt"), (REPORT, "b.txt"))
    assert first.status_code == 201
    added, again = first.get_json()["documents"]
    assert (added["status"], again["status"]) == ("added", "unchanged")
    assert added["doc_id"] == again["doc_id"] and again["file"] == "b.txt"
    files, live = listing(place), generation(client)
    second = upload(client, (REPORT, "c.md"), ((CORPUS / "001_4827853948cbae87.txt")
                                                .read_bytes(), "bundled.txt"))
    assert second.status_code == 200  # nothing new
    documents = second.get_json()["documents"]
    assert [(d["doc_id"], d["status"]) for d in documents] == [
        (added["doc_id"], "unchanged"), ("001_4827853948cbae87", "unchanged")]
    assert listing(place) == files and generation(client) == live


@pytest.mark.parametrize("name", ["../../evil.txt", "..\\..\\evil.txt", "/etc/evil.txt",
                                  "sub/../../evil.txt", "evil.txt\x00.pdf"])
def test_a_name_is_never_a_path(client, place, name):
    response = upload(client, (REPORT, name))
    assert response.status_code in (201, 415), response.get_json()
    if response.status_code == 415:  # "evil.txt\x00.pdf" says .pdf: not what it holds
        assert listing(place) == listing_of_bundled()
        return
    (entry,) = response.get_json()["documents"]
    shown = entry["file"]  # the name as sent, folders dropped: shown, never a path
    assert shown.endswith("evil.txt") and "/" not in shown and "\\" not in shown
    assert listing(place) == {**listing_of_bundled(), f"{entry['doc_id']}.txt": REPORT}
    assert not (place / "evil.txt").exists() and not (place.parent / "evil.txt").exists()
    assert not Path("/etc/evil.txt").exists()


def listing_of_bundled() -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(CORPUS.iterdir())}


# -- refusals: the whole upload, nothing stored -------------------------------------------

@pytest.mark.parametrize(("content", "name", "says"), [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "scan.txt", "scan.txt is a PNG image"),
    (b"%PDF-1.4\n1 0 obj\n", "report.txt", "report.txt is named .txt but its content is PDF"),
    (REPORT, "report.pdf", "report.pdf is named .pdf but its content is txt"),
    (REPORT, "report.docx", "report.docx is named .docx but its content is txt"),
    (REPORT, "report.html", "report.html is named as an HTML page but is plain text"),
    (REPORT, "report.jsonl", "report.jsonl is named as JSON lines"),
    (REPORT, "report.exe", "report.exe: .exe files are not read"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(64), "old.doc", "old.doc: .doc files"),
    (b"\x7fELF\x02\x01\x01" + bytes(64), "tool", "tool is a program"),
    (b"\x00\x01\x02\x03binary\x00", "data.txt", "data.txt is not a document we read"),
])
def test_unsupported_or_lying_type_is_415(client, place, content, name, says):
    files, live = listing(place), generation(client)
    response = upload(client, (REPORT, "good.txt"), (content, name))
    assert_error_shape(response, 415, says)
    assert listing(place) == files and generation(client) == live


def test_a_zip_that_is_not_a_docx_is_415(client, place):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("notes.txt", "hello")
    assert_error_shape(upload(client, (buffer.getvalue(), "notes.docx")), 415,
                       "notes.docx is a ZIP archive, not a .docx document")
    assert_error_shape(upload(client, (b"PK\x03\x04broken", "x.docx")), 415,
                       "x.docx is a damaged ZIP archive")


def test_a_body_that_is_not_multipart_is_415(client):
    response = client.post("/api/documents", headers=AUTH, data=REPORT,
                           content_type="text/plain")
    assert_error_shape(response, 415, "send the files as multipart/form-data")
    assert_error_shape(upload(client), 400, "no file was sent")


def test_a_file_over_the_limit_is_413(place):
    client = make_app(place, WEB_MAX_UPLOAD_BYTES=len(REPORT) - 1).test_client()
    files, live = listing(place), generation(client)
    response = upload(client, (REPORT[:100], "small.txt"), (REPORT, "big.txt"))
    assert_error_shape(response, 413, f"big.txt is larger than {len(REPORT) - 1} bytes, the "
                                      "limit per file")
    assert listing(place) == files and generation(client) == live


def test_too_many_files_is_400(place):
    client = make_app(place, WEB_MAX_UPLOAD_FILES=2).test_client()
    response = upload(client, (REPORT, "1.txt"), (REPORT, "2.txt"), (REPORT, "3.txt"))
    assert_error_shape(response, 400, "3 files were sent; at most 2")


# -- skipped with a reason, the rest added ------------------------------------------------

def test_zip_bomb_and_broken_pdf_are_skipped(place):
    client = make_app(place, WEB_MAX_UNPACKED_BYTES=100_000).test_client()
    bomb = docx("炸弹", padding=5_000_000)  # 5 MB of XML in a zip of a few KB
    assert len(bomb) < 50_000
    response = upload(client, (bomb, "bomb.docx"), (b"%PDF-1.4\nnot really\n", "broken.pdf"),
                      (b"", "empty.txt"), (REPORT, "good.txt"))
    assert response.status_code == 201, response.get_json()
    data = response.get_json()
    reasons = {s["source"]: s["reason"] for s in data["skipped"]}
    assert reasons["bomb.docx"].startswith("the .docx would unpack to 4.8 MB in 3 parts, over "
                                           "the limit of 0.1 MB (web_max_unpacked_bytes)")
    assert reasons["broken.pdf"].startswith("not a readable PDF")
    assert reasons["empty.txt"] == "empty file"
    assert [d["file"] for d in data["documents"]] == ["good.txt"]
    stored = set(listing(place)) - set(listing_of_bundled())
    assert stored == {f"{data['documents'][0]['doc_id']}.txt"}  # nothing skipped is kept


def test_nothing_readable_changes_nothing(client, place):
    files, live = listing(place), generation(client)
    response = upload(client, (b"%PDF-1.7\n%%EOF\n", "scan.pdf"))
    assert response.status_code == 200
    assert response.get_json()["documents"] == []
    assert listing(place) == files and generation(client) == live


# -- one change at a time; a failed update leaves nothing ---------------------------------

def test_an_update_already_running_is_409(client, place):
    from webapp.services import EXTENSION

    files, live = listing(place), generation(client)
    service = client.application.extensions[EXTENSION]
    assert service._updating.acquire(blocking=False)
    try:
        assert_error_shape(upload(client, (REPORT, "a.txt")), 409,
                           "an index update is already running")
        assert_error_shape(client.delete("/api/documents/003_d9116304a1c6cf83",
                                         headers=AUTH), 409)
    finally:
        service._updating.release()
    with open(place / "index" / "web-update.lock", "a") as other:  # another worker's change
        import fcntl

        fcntl.flock(other, fcntl.LOCK_EX)
        assert_error_shape(upload(client, (REPORT, "a.txt")), 409)
    lock = place / "index" / "build.lock"  # another process's build, alive (this pid)
    lock.write_text(json.dumps({"pid": os.getpid(), "host": os.uname().nodename}))
    try:
        assert_error_shape(upload(client, (REPORT, "a.txt")), 409)
    finally:
        lock.unlink()
    assert listing(place) == files and generation(client) == live


def test_a_failed_update_removes_what_it_stored(client, place, monkeypatch):
    from indexer.errors import WriterBusy
    from webapp.services import PolicyQA

    def busy(self, corpus_dir, stage=None):
        raise WriterBusy("another build took the lock")

    files, live = listing(place), generation(client)
    monkeypatch.setattr(PolicyQA, "rebuild", busy)
    assert_error_shape(upload(client, (REPORT, "a.txt")), 409)
    assert listing(place) == files
    assert_error_shape(client.delete("/api/documents/003_d9116304a1c6cf83", headers=AUTH), 409)
    assert listing(place) == files and generation(client) == live  # the file is back


# -- what a delete may touch --------------------------------------------------------------

def test_delete_refuses_a_line_of_a_bulk_file_and_a_file_outside(client, place, tmp_path):
    bulk = "\n".join(json.dumps({"id": f"line-{n}", "title": f"第{n}行", "text":
                                 f"{WORD}批量报告第{n}行：全年新增学位{n}00个。"},
                                ensure_ascii=False) for n in (1, 2)).encode()
    assert upload(client, (bulk, "bulk.jsonl")).status_code == 201
    assert_error_shape(client.delete("/api/documents/line-1", headers=AUTH), 409,
                       "document 'line-1' shares its file with 1 other documents")
    outside = tmp_path / "outside.txt"
    outside.write_bytes(REPORT)
    (place / "corpus" / "linked.txt").symlink_to(outside)
    assert client.post("/api/admin/update", headers=AUTH).get_json()["added"] == ["linked"]
    assert_error_shape(client.delete("/api/documents/linked", headers=AUTH), 409,
                       "document 'linked' does not come from a file in the corpus folder")
    assert outside.read_bytes() == REPORT and (place / "corpus" / "linked.txt").is_symlink()


# -- who may change documents -------------------------------------------------------------

def test_without_a_token_there_is_no_endpoint_and_no_form(place):
    client = make_app(place, WEB_ADMIN_TOKEN="").test_client()
    assert_error_shape(upload(client, (REPORT, "a.txt")), 404, "there is nothing at")
    assert_error_shape(client.delete("/api/documents/003_d9116304a1c6cf83", headers=AUTH),
                       404)
    assert_error_shape(client.get("/api/uploads/" + "0" * 32), 404)
    page = client.get("/documents")
    assert "upload-form" not in page.get_data(as_text=True)
    assert "sign-in" not in page.get_data(as_text=True) and "Set-Cookie" not in page.headers
    assert client.post("/editor/sign-in").status_code == 404
    assert client.post("/editor/add").status_code == 404
    paths = client.get("/openapi.json").get_json()["paths"]
    assert "post" not in paths["/api/documents"] and "/api/uploads/{job}" not in paths
    assert "delete" not in paths["/api/documents/{doc_id}"]


@pytest.mark.parametrize("authorization", [None, "Bearer wrong", f"Basic {TOKEN}",
                                           f"Bearer {TOKEN}x"])
def test_the_api_needs_the_token(client, place, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    for response in (upload(client, (REPORT, "a.txt"), headers=headers),
                     client.delete("/api/documents/003_d9116304a1c6cf83", headers=headers)):
        assert_error_shape(response, 401, "this endpoint needs the admin token")
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert listing(place) == listing_of_bundled()


def cookie_of(response) -> SimpleCookie:
    (header,) = response.headers.getlist("Set-Cookie")
    cookie = SimpleCookie()
    cookie.load(header)
    return cookie


def csrf_on(page) -> str:
    import re

    return re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True))[1]


def test_editor_session_cookie_and_csrf(client, place):
    page = client.get("/documents")
    assert "sign-in" in page.get_data(as_text=True) and "upload-form" not in page.get_data(
        as_text=True)
    assert page.headers["Cache-Control"] == "no-store"
    morsel = cookie_of(page)["policyqa_editor"]
    assert morsel["httponly"] and morsel["samesite"] == "Strict" and not morsel["secure"]
    anonymous = csrf_on(page)
    # A sign-in without the page's token, or with another's, is refused.
    for form in ({"token": TOKEN}, {"token": TOKEN, "csrf_token": "x" * 43}):
        refused = client.post("/editor/sign-in", data=form)
        assert refused.status_code == 403 and "Set-Cookie" not in refused.headers
        assert "this form has expired" in refused.get_data(as_text=True)  # the error page
    wrong = client.post("/editor/sign-in", data={"token": "nope", "csrf_token": anonymous})
    assert wrong.status_code == 401 and "管理令牌不正确" in wrong.get_data(as_text=True)
    signed = client.post("/editor/sign-in", data={"token": TOKEN, "csrf_token": anonymous})
    assert signed.status_code == 303 and signed.headers["Location"] == "/documents"
    morsel = cookie_of(signed)["policyqa_editor"]
    assert morsel["httponly"] and morsel["samesite"] == "Strict" and morsel["path"] == "/"
    assert int(morsel["max-age"]) == 8 * 3600
    page = client.get("/documents")
    csrf = csrf_on(page)
    assert csrf != anonymous and 'id="upload-form"' in page.get_data(as_text=True)
    # With the session, a change needs the session's CSRF token.
    assert_error_shape(upload(client, (REPORT, "a.txt"), headers={}), 403,
                       "this form has expired or did not come from this site")
    assert_error_shape(upload(client, (REPORT, "a.txt"), headers={"X-CSRF-Token": anonymous}),
                       403)
    response = upload(client, (REPORT, "a.txt"), headers={"X-CSRF-Token": csrf},
                      job="ab" * 16)
    assert response.status_code == 201
    progress = client.get("/api/uploads/" + "ab" * 16)
    assert progress.get_json()["state"] == "done" and progress.get_json()["stage"] == "done"
    assert progress.headers["Cache-Control"] == "no-store"
    assert_error_shape(client.get("/api/uploads/../../etc"), 404)
    doc_id = response.get_json()["documents"][0]["doc_id"]
    assert_error_shape(client.delete(f"/api/documents/{doc_id}"), 403)
    assert client.delete(f"/api/documents/{doc_id}",
                         headers={"X-CSRF-Token": csrf}).status_code == 200
    # Signing out needs the token too, and ends the session.
    assert client.post("/editor/sign-out").status_code == 403
    out = client.post("/editor/sign-out", data={"csrf_token": csrf})
    assert out.status_code == 303 and cookie_of(out)["policyqa_editor"].value == ""
    assert_error_shape(upload(client, (REPORT, "a.txt"), headers={"X-CSRF-Token": csrf}), 401)


def test_cookie_is_secure_over_https(client):
    page = client.get("/documents", base_url="https://localhost")
    assert cookie_of(page)["policyqa_editor"]["secure"]


def test_a_session_from_another_token_is_refused(place):
    old = make_app(place, WEB_ADMIN_TOKEN="old-token").test_client()
    anonymous = csrf_on(old.get("/documents"))
    old.post("/editor/sign-in", data={"token": "old-token", "csrf_token": anonymous})
    cookie = old.get_cookie("policyqa_editor")
    new = make_app(place).test_client()
    new.set_cookie("policyqa_editor", cookie.value)
    assert_error_shape(upload(new, (REPORT, "a.txt"), headers={}), 401)


def test_the_page_without_script_adds_and_removes(client, place):
    anonymous = csrf_on(client.get("/documents"))
    client.post("/editor/sign-in", data={"token": TOKEN, "csrf_token": anonymous})
    csrf = csrf_on(client.get("/documents"))
    page = client.post("/editor/add", data={"csrf_token": csrf, "file": [
        (io.BytesIO(REPORT), "good.txt"), (io.BytesIO(b""), "empty.txt")]},
        content_type="multipart/form-data")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "上传结果" in text
    assert "empty.txt：empty file" in text and f"{WORD}县教育局2018年工作总结" in text
    (doc_id,) = found(client, WORD)
    page = client.post(f"/editor/delete/{doc_id}", data={"csrf_token": csrf})
    assert page.status_code == 200 and f"已删除文档 {doc_id}" in page.get_data(as_text=True)
    assert found(client, WORD) == set()


def test_openapi_describes_the_document_endpoints(client):
    from tests.test_webapp import check_schema

    spec = client.get("/openapi.json").get_json()
    paths = spec["paths"]
    post = paths["/api/documents"]["post"]
    assert post["security"] == [{"adminToken": []}]
    assert {"201", "200", "401", "403", "409", "413", "415"} <= set(post["responses"])
    assert "delete" in paths["/api/documents/{doc_id}"] and "/api/uploads/{job}" in paths

    def fits(response, path, method):
        responses = paths[path][method]["responses"]
        schema = responses[str(response.status_code)]["content"]["application/json"]["schema"]
        check_schema(response.get_json(), schema, spec)

    added = upload(client, (REPORT, "a.txt"), (b"", "b.txt"), job="cd" * 16)
    fits(added, "/api/documents", "post")
    fits(upload(client, (REPORT, "a.txt")), "/api/documents", "post")  # 200: unchanged
    fits(upload(client, (REPORT, "a.pdf")), "/api/documents", "post")  # 415
    fits(client.get("/api/uploads/" + "cd" * 16, headers=AUTH), "/api/uploads/{job}", "get")
    doc_id = added.get_json()["documents"][0]["doc_id"]
    fits(client.delete(f"/api/documents/{doc_id}", headers=AUTH), "/api/documents/{doc_id}",
         "delete")


def test_the_server_lets_an_upload_through_and_no_more(place):
    """waitress reads a body before the app does: an upload over 1 MB (its floor) passes,
    one over every file's limit together is refused without the app."""
    import http.client
    import uuid

    from tests.conftest import serving

    limit = 3 * 2**20
    app = make_app(place, WEB_MAX_UPLOAD_BYTES=limit, WEB_MAX_UPLOAD_FILES=1)

    def post(url: str, content: bytes) -> tuple[int, dict]:
        boundary = uuid.uuid4().hex
        body = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                f'filename="big.pdf"\r\nContent-Type: application/pdf\r\n\r\n').encode() \
            + content + f"\r\n--{boundary}--\r\n".encode()
        host, port = url.removeprefix("http://").split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=60)
        connection.request("POST", "/api/documents", body=body, headers={
            **AUTH, "Content-Type": f"multipart/form-data; boundary={boundary}"})
        response = connection.getresponse()
        data = json.loads(response.read())
        connection.close()
        return response.status, data

    with serving(app) as url:
        status, data = post(url, b"%PDF-1.4\n" + b"0" * (2 * 2**20))
        assert status == 200 and data["skipped"][0]["source"] == "big.pdf"
        status, data = post(url, b"%PDF-1.4\n" + b"0" * (limit + 2**19))  # over one file's
        assert status == 413, data
        assert data["error"].startswith(f"big.pdf is larger than {limit} bytes"), data
        try:  # over the whole body's allowance: waitress refuses it, the app never sees it
            status, data = post(url, b"%PDF-1.4\n" + b"0" * (limit + 2 * 2**20))
        except (BrokenPipeError, ConnectionResetError):
            status = 413  # refused while still sending
        assert status == 413
