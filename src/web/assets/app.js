// sheetload ui: the little JavaScript the pages use (drag-and-drop, in-place cell
// edits, live progress). Every page works without it except the live updates.
(function () {
  "use strict";

  function dropZone() {
    var zone = document.querySelector(".drop");
    if (!zone) return;
    var input = zone.querySelector("input[type=file]");
    ["dragenter", "dragover"].forEach(function (e) {
      zone.addEventListener(e, function (ev) { ev.preventDefault(); zone.classList.add("over"); });
    });
    ["dragleave", "drop"].forEach(function (e) {
      zone.addEventListener(e, function (ev) { ev.preventDefault(); zone.classList.remove("over"); });
    });
    zone.addEventListener("drop", function (ev) {
      if (ev.dataTransfer && ev.dataTransfer.files.length) {
        input.files = ev.dataTransfer.files;
        zone.querySelector(".picked").textContent = input.files[0].name;
      }
    });
    input.addEventListener("change", function () {
      if (input.files.length) zone.querySelector(".picked").textContent = input.files[0].name;
    });
  }

  function editCell(td) {
    if (td.classList.contains("editing")) return;
    var old = td.getAttribute("data-value") || "";
    td.classList.add("editing");
    td.textContent = "";
    var input = document.createElement("input");
    input.type = "text";
    input.value = old;
    input.setAttribute("aria-label", "New value for " + (td.getAttribute("data-cell") || "cell"));
    td.appendChild(input);
    input.focus();
    input.select();
    var done = false;
    function save(keep) {
      if (done) return;
      done = true;
      if (!keep || input.value === old) { location.reload(); return; }
      var body = new URLSearchParams();
      body.set("row", td.parentNode.getAttribute("data-row"));
      body.set("col", td.getAttribute("data-col"));
      body.set("value", input.value);
      fetch("/review/cell", { method: "POST", body: body, credentials: "same-origin",
        headers: { "Content-Type": "application/x-www-form-urlencoded" } })
        .then(function (r) { return r.text().then(function (t) { return { ok: r.ok, text: t }; }); })
        .then(function (r) {
          if (!r.ok) { alert(r.text); location.reload(); return; }
          var tr = td.parentNode;
          var tmp = document.createElement("tbody");
          tmp.innerHTML = r.text;
          tr.parentNode.replaceChild(tmp.firstElementChild, tr);
          var counts = document.getElementById("counts");
          if (counts) fetch("/review/counts", { credentials: "same-origin" }).then(function (c) { return c.text(); })
            .then(function (h) { counts.innerHTML = h; });
        });
    }
    input.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter") { ev.preventDefault(); save(true); }
      if (ev.key === "Escape") { ev.preventDefault(); save(false); }
    });
    input.addEventListener("blur", function () { save(true); });
  }

  function grid() {
    var table = document.querySelector("table.grid");
    if (!table) return;
    table.addEventListener("click", function (ev) {
      var td = ev.target.closest("td[data-col]");
      if (td) editCell(td);
    });
    table.addEventListener("keydown", function (ev) {
      var td = ev.target.closest && ev.target.closest("td[data-col]");
      if (td && !td.classList.contains("editing") && (ev.key === "Enter" || ev.key === "F2")) {
        ev.preventDefault();
        editCell(td);
      }
    });
  }

  function live() {
    var box = document.getElementById("live");
    if (!box || !window.EventSource) return;
    var src = new EventSource("/import/events");
    function set(id, v) { var e = document.getElementById(id); if (e) e.textContent = v; }
    src.addEventListener("progress", function (ev) {
      var p = JSON.parse(ev.data);
      set("p-done", p.done); set("p-total", p.total === null ? "?" : p.total);
      set("p-ok", p.ok); set("p-failed", p.failed); set("p-rate", p.rate); set("p-eta", p.eta);
      set("p-state", p.state);
      var bar = document.getElementById("p-bar");
      if (bar && p.total) bar.style.width = Math.min(100, 100 * p.done / p.total) + "%";
    });
    src.addEventListener("done", function (ev) {
      src.close();
      location.href = ev.data || "/results";
    });
  }

  document.addEventListener("DOMContentLoaded", function () { dropZone(); grid(); live(); });
})();
