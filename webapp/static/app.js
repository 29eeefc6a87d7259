// Document view: scroll the cited sentence into view and shade the passage named in the
// address; answer page: copy a citation (alone or with its GB/T 7714 reference), preview
// [n] on a tap; every search box: count what is typed against the limit. No inline script
// anywhere (see the CSP).
(function () {
  "use strict";

  // The fragment as text. A malformed one ("#%", "#%E0%A4%A") is taken as written:
  // decodeURIComponent would throw and stop everything below it.
  function fragment() {
    var raw = window.location.hash.slice(1);
    try {
      return decodeURIComponent(raw);
    } catch (error) {
      return raw;
    }
  }

  function shade(id) {
    var found = false;
    document.querySelectorAll("[data-passage]").forEach(function (el) {
      if (el.getAttribute("data-passage") === id) {
        el.classList.add("current-passage");
        found = true;
      }
    });
    return found;
  }

  // The passage the fragment names; when it names none, the one holding the cited span.
  function markPassage() {
    document.querySelectorAll(".current-passage").forEach(function (el) {
      el.classList.remove("current-passage");
    });
    var id = fragment();
    if (id && shade(id)) { return; }
    var cited = document.getElementById("cited");
    var holder = cited && cited.closest("[data-passage]");
    if (holder) { shade(holder.getAttribute("data-passage")); }
  }

  function showCited() {
    var cited = document.getElementById("cited");
    if (!cited) { return; }
    cited.setAttribute("tabindex", "-1");
    cited.scrollIntoView({ block: "center" });
    cited.focus({ preventScroll: true });
    var outline = document.querySelector(".outline");
    var here = document.querySelectorAll(".outline a.here");
    if (outline && here.length) {
      var last = here[here.length - 1];
      outline.scrollTop += last.getBoundingClientRect().top -
        outline.getBoundingClientRect().top - outline.clientHeight / 3;
    }
  }

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "offscreen";
    document.body.appendChild(area);
    area.select();
    var done = document.execCommand("copy");
    document.body.removeChild(area);
    return done ? Promise.resolve() : Promise.reject(new Error("copy refused"));
  }

  // A copied citation ends with the full address of its highlighted place, on this host.
  function copiedText(button) {
    var text = button.getAttribute("data-copy");
    var link = button.getAttribute("data-copy-link");
    return link ? text + new URL(link, window.location.href).href : text;
  }

  // Each press of the button copies textOf(button); the button says how that went for
  // 1.5 s, then shows its label again.
  function copyOnPress(button, textOf) {
    button.addEventListener("click", function () {
      var label = button.textContent;
      copyText(textOf(button)).then(function () {
        button.textContent = "已复制";
      }, function () {
        button.textContent = "复制失败";
      }).then(function () {
        window.setTimeout(function () { button.textContent = label; }, 1500);
      });
    });
  }

  function setUpCopyButtons() {
    document.querySelectorAll("button[data-copy]").forEach(function (button) {
      button.hidden = false;
      copyOnPress(button, copiedText);
    });
  }

  // The answer page's copy choice of a citation group: the quote alone, or the quote with
  // its GB/T 7714 reference.
  function setUpCopyChoice() {
    document.querySelectorAll("details.copy-choice").forEach(function (menu) {
      menu.hidden = false;
    });
    document.querySelectorAll("button[data-copy-cite]").forEach(function (button) {
      copyOnPress(button, function () { return button.getAttribute("data-copy-cite"); });
    });
  }

  // -- Long input: a live count (n/limit) and a message, never a silent cut ----------
  // The box has no maxlength. Characters are counted as the server counts them (code
  // points); past the limit the form is not sent and the counter says why, in Chinese.
  function length(text) {
    return Array.from(text).length;
  }

  function setUpCounters() {
    document.querySelectorAll("form.searchbox").forEach(function (form) {
      var input = form.querySelector("input[data-limit]");
      var counter = form.querySelector(".counter");
      if (!input || !counter) { return; }
      var limit = parseInt(input.getAttribute("data-limit"), 10);

      function update(what) {
        var n = length(input.value);
        var over = n > limit;
        counter.hidden = n <= limit / 5 && !what;
        counter.classList.toggle("over", over);
        if (over && what) {
          counter.textContent = what + "有 " + n + " 个字，超过了 " + limit +
            " 字的上限，请删减 " + (n - limit) + " 个字后再提交。";
        } else if (over) {
          counter.textContent = n + "/" + limit + "：超过了 " + limit + " 字的上限，请删减 " +
            (n - limit) + " 个字。";
        } else {
          counter.textContent = n + "/" + limit;
        }
        input.setAttribute("aria-invalid", over ? "true" : "false");
        return over;
      }

      input.addEventListener("input", function () { update(""); });
      form.addEventListener("submit", function (event) {
        var asking = event.submitter && event.submitter.hasAttribute("formaction");
        if (update(asking ? "问题" : "查询")) {
          event.preventDefault();
          input.focus();
        }
      });
      update("");
    });
  }

  // -- Citation previews on a touch screen --------------------------------------------
  // A mouse hovers [n] and the keyboard focuses it to see its preview; a finger has
  // neither, so its first tap on [n] opens the preview and a second follows the link.
  function closePreviews() {
    document.querySelectorAll(".marker-wrap.open").forEach(function (wrap) {
      wrap.classList.remove("open");
    });
  }

  function setUpMarkerTaps() {
    var touched = false;
    document.addEventListener("pointerdown", function (event) {
      touched = event.pointerType === "touch" || event.pointerType === "pen";
    }, true);
    document.querySelectorAll("a.marker").forEach(function (marker) {
      marker.addEventListener("click", function (event) {
        var wrap = marker.closest(".marker-wrap");
        if (!touched || !wrap || wrap.classList.contains("open")) { return; }
        event.preventDefault();
        closePreviews();
        wrap.classList.add("open");
      });
    });
    document.addEventListener("click", function (event) {
      if (!event.target.closest(".marker-wrap")) { closePreviews(); }
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape") { closePreviews(); }
    });
  }

  markPassage();
  showCited();
  setUpCopyButtons();
  setUpCopyChoice();
  setUpCounters();
  setUpMarkerTaps();
  window.addEventListener("hashchange", markPassage);
})();

// -- Documents page, editors: add reports with progress, remove them. (Its own block: the
// rest of this file is the search, answer and reading pages'.)
(function () {
  "use strict";

  var STAGES = ["upload", "reading", "indexing", "embedding", "done"];

  function csrfOf(form) {
    var field = form.querySelector("input[name=csrf_token]");
    return field ? field.value : "";
  }

  function newJobId() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  function element(tag, text, className) {
    var el = document.createElement(tag);
    if (text !== undefined && text !== null) { el.textContent = text; }
    if (className) { el.className = className; }
    return el;
  }

  function showStage(list, stage, text) {
    var reached = STAGES.indexOf(stage);
    list.querySelectorAll("li[data-stage]").forEach(function (item, index) {
      item.classList.toggle("active", index === reached);
      item.classList.toggle("finished", index < reached || stage === "done");
    });
    var item = list.querySelector("li[data-stage='" + stage + "'] .count");
    if (item && text !== undefined) { item.textContent = text; }
  }

  function stageText(job) {
    if (job.stage === "checking") { return ["reading", "检查 " + job.total + " 个文件"]; }
    if (job.stage === "reading" && job.source === "build") {
      return ["reading", job.total ? "全部 " + job.total + " 篇文档已读取" : "读取全部文档…"];
    }
    if (job.stage === "reading") { return ["reading", job.done + " / " + job.total + " 个文件"]; }
    if (job.stage === "indexing" || job.stage === "embedding") {
      return [job.stage, job.done + " / " + job.total + " 个片段"];
    }
    return [job.stage, ""];
  }

  function documentRow(doc, csrf, template) {
    var row = element("tr");
    row.setAttribute("data-doc", doc.doc_id);
    var title = element("td");
    title.setAttribute("data-label", "标题");
    var link = element("a", doc.title || doc.doc_id);
    link.href = "/documents/" + encodeURIComponent(doc.doc_id);
    title.appendChild(link);
    row.appendChild(title);
    ["发文机关", "地区", "年份", "类型"].forEach(function (label) {
      var cell = element("td", "—");
      cell.setAttribute("data-label", label);
      row.appendChild(cell);
    });
    var count = element("td", String(doc.passages));
    count.setAttribute("data-label", "检索片段");
    row.appendChild(count);
    var cite = element("td", null, "cite-links");
    cite.setAttribute("data-label", "引用");
    var citeLink = element("a", "GB/T 7714");
    citeLink.href = "/api/documents/" + encodeURIComponent(doc.doc_id) + "/cite";
    cite.appendChild(citeLink);
    row.appendChild(cite);
    if (template) {
      var manage = template.closest("td").cloneNode(true);
      var form = manage.querySelector("form");
      form.action = "/editor/delete/" + encodeURIComponent(doc.doc_id);
      form.setAttribute("data-api", "/api/documents/" + encodeURIComponent(doc.doc_id));
      form.querySelector("input[name=csrf_token]").value = csrf;
      var button = form.querySelector("button");
      button.className = "danger";
      button.disabled = false;
      button.textContent = "删除";
      row.appendChild(manage);
      setUpDelete(form);
    }
    return row;
  }

  function showResult(box, data, csrf) {
    box.textContent = "";
    box.appendChild(element("h3", "上传结果"));
    var groups = [["added", "已添加："], ["unchanged", "已在索引中，未重复添加："]];
    groups.forEach(function (group) {
      var docs = data.documents.filter(function (d) { return d.status === group[0]; });
      if (!docs.length) { return; }
      box.appendChild(element("p", group[1]));
      var list = element("ul", null, group[0]);
      docs.forEach(function (doc) {
        var item = element("li");
        var link = element("a", doc.title || doc.doc_id);
        link.href = "/documents/" + encodeURIComponent(doc.doc_id);
        item.appendChild(link);
        item.appendChild(document.createTextNode("（" + doc.file + "，" + doc.passages + " 段）"));
        list.appendChild(item);
      });
      box.appendChild(list);
    });
    if (data.skipped.length) {
      box.appendChild(element("p", "未能添加："));
      var skipped = element("ul", null, "skipped");
      data.skipped.forEach(function (s) { skipped.appendChild(element("li", s.source + "：" + s.reason)); });
      box.appendChild(skipped);
    }
    var rows = document.getElementById("document-rows");
    var template = document.querySelector("#document-rows form.delete-form");
    data.documents.forEach(function (doc) {
      if (doc.status === "added" && rows && !rows.querySelector("tr[data-doc='" + doc.doc_id + "']")) {
        rows.appendChild(documentRow(doc, csrf, template));
      }
    });
  }

  function showError(box, status, text) {
    var message = text;
    try { message = JSON.parse(text).error; } catch (error) { /* not JSON: as sent */ }
    box.textContent = "";
    box.appendChild(element("p", "上传失败（" + status + "）：" + message, "notice"));
  }

  function setUpUpload() {
    var form = document.getElementById("upload-form");
    if (!form || !window.FormData || !window.XMLHttpRequest) { return; }
    var input = document.getElementById("upload-files");
    var zone = document.getElementById("dropzone");
    var chosen = document.getElementById("upload-chosen");
    var steps = document.getElementById("upload-progress");
    var box = document.getElementById("upload-result");
    var bar = steps.querySelector("progress");

    function listChosen() {
      chosen.textContent = Array.prototype.map.call(input.files, function (f) {
        return f.name;
      }).join("、");
    }
    input.addEventListener("change", listChosen);
    ["dragenter", "dragover"].forEach(function (name) {
      zone.addEventListener(name, function (event) {
        event.preventDefault();
        zone.classList.add("over");
      });
    });
    zone.addEventListener("dragleave", function () { zone.classList.remove("over"); });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      zone.classList.remove("over");
      if (event.dataTransfer && event.dataTransfer.files.length) {
        input.files = event.dataTransfer.files;
        listChosen();
      }
    });

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!input.files.length) { return; }
      var job = newJobId();
      var body = new FormData(form);
      body.append("job", job);
      var button = form.querySelector("button[type=submit]");
      button.disabled = true;
      steps.hidden = false;
      steps.querySelectorAll(".count").forEach(function (c) { c.textContent = ""; });
      bar.value = 0;
      showStage(steps, "upload", "");
      box.textContent = "";
      var polling = null;
      var progressUrl = form.getAttribute("data-progress").replace("JOB", job);

      function poll() {
        fetch(progressUrl, { credentials: "same-origin", cache: "no-store" }).then(function (r) {
          return r.ok ? r.json() : null;
        }).then(function (state) {
          if (state && polling !== null && state.stage !== "done" && state.stage !== "failed") {
            var shown = stageText(state);
            showStage(steps, shown[0], shown[1]);
          }
        }, function () { /* the next poll will tell */ });
      }

      var request = new XMLHttpRequest();
      request.open("POST", form.getAttribute("data-api"));
      request.setRequestHeader("X-CSRF-Token", csrfOf(form));
      request.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable) {
          bar.value = Math.round(100 * e.loaded / e.total);
          showStage(steps, "upload", Math.round(e.loaded / 1024) + " / " + Math.round(e.total / 1024) + " KB");
        }
      });
      request.upload.addEventListener("load", function () {
        bar.value = 100;
        showStage(steps, "reading", "");
        polling = window.setInterval(poll, 400);
      });
      request.addEventListener("loadend", function () {
        if (polling !== null) { window.clearInterval(polling); polling = null; }
        button.disabled = false;
        if (request.status === 200 || request.status === 201) {
          var data = JSON.parse(request.responseText);
          var added = data.documents.filter(function (d) { return d.status === "added"; }).length;
          showStage(steps, "done", "新增 " + added + " 篇，跳过 " + data.skipped.length + " 个文件");
          showResult(box, data, csrfOf(form));
          form.reset();
          chosen.textContent = "";
        } else {
          steps.hidden = true;
          showError(box, request.status || "网络错误", request.responseText || "");
        }
      });
      request.send(body);
    });
  }

  function setUpDelete(form) {
    var button = form.querySelector("button");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!button.classList.contains("confirm")) {
        button.classList.add("confirm");
        button.textContent = "确认删除";
        return;
      }
      button.disabled = true;
      fetch(form.getAttribute("data-api"), {
        method: "DELETE", credentials: "same-origin",
        headers: { "X-CSRF-Token": csrfOf(form) }
      }).then(function (response) {
        return response.json().then(function (data) { return [response.status, data]; });
      }).then(function (result) {
        var row = form.closest("tr");
        if (result[0] === 200) {
          var note = element("p", "已删除文档 " + result[1].removed + "，索引已更新。", "notice");
          note.setAttribute("role", "status");
          row.parentNode.removeChild(row);
          var table = document.querySelector("table.documents");
          table.parentNode.insertBefore(note, table);
        } else {
          button.disabled = false;
          button.textContent = "删除失败：" + (result[1].error || result[0]);
        }
      }, function () {
        button.disabled = false;
        button.textContent = "删除失败，请重试";
      });
    });
  }

  setUpUpload();
  document.querySelectorAll("form.delete-form").forEach(setUpDelete);
})();
