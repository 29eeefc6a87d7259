// Document view: scroll the cited sentence into view and shade the passage named in the
// address; answer page: copy a citation. No inline script anywhere (see the CSP).
(function () {
  "use strict";

  function markPassage() {
    var id = decodeURIComponent(window.location.hash.slice(1));
    document.querySelectorAll(".current-passage").forEach(function (el) {
      el.classList.remove("current-passage");
    });
    if (!id) { return; }
    document.querySelectorAll("[data-passage]").forEach(function (el) {
      if (el.getAttribute("data-passage") === id) { el.classList.add("current-passage"); }
    });
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

  function setUpCopyButtons() {
    document.querySelectorAll("button[data-copy]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        var label = button.textContent;
        copyText(button.getAttribute("data-copy")).then(function () {
          button.textContent = "已复制";
        }, function () {
          button.textContent = "复制失败";
        }).then(function () {
          window.setTimeout(function () { button.textContent = label; }, 1500);
        });
      });
    });
  }

  markPassage();
  showCited();
  setUpCopyButtons();
  window.addEventListener("hashchange", markPassage);
})();
