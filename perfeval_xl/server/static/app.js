// The browser page: upload a workbook, show the verdict and the findings by sheet, offer the marked copy.
// Every text from the workbook goes in with textContent, never as HTML.
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const TOKEN_KEY = "perfeval-token";
  let lastFile = null;
  let downloadUrl = null;

  function el(tag, attrs, text) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function status(text, busy) {
    const s = $("status");
    s.textContent = text;
    s.classList.toggle("busy", !!busy);
  }

  function pct(x) { return x === null || x === undefined ? "—" : (x * 100).toFixed(2) + "%"; }
  function num(x) { return x === null || x === undefined ? "—" : Number(x).toFixed(2); }

  async function send(file) {
    lastFile = file;
    $("result").hidden = true;
    status("正在校验 " + file.name + " …", true);
    const form = new FormData();
    form.append("file", file, file.name);
    const headers = {};
    const token = localStorage.getItem(TOKEN_KEY);
    if (token) headers["Authorization"] = "Bearer " + token;
    let resp;
    try {
      // the findings first (tens of ms); the marked copy (about a second) follows in the background
      resp = await fetch("/api/check?annotate=false", { method: "POST", body: form, headers });
    } catch (e) {
      status("无法连接校验服务，请稍后再试（" + e + "）");
      return;
    }
    let body = null;
    try { body = await resp.json(); } catch (e) { body = null; }
    if (resp.status === 401) {
      $("token-box").hidden = false;
      status((body && body.detail) || "需要访问口令");
      $("token").focus();
      return;
    }
    if (!body || (resp.status !== 200 && resp.status !== 422) || body.detail) {
      status((body && body.detail) || ("校验服务出错（HTTP " + resp.status + "）"));
      return;
    }
    $("token-box").hidden = true;
    status("");
    render(body);
    if (body.ok) fetchCopy(file, headers);
  }

  async function fetchCopy(file, headers) {
    const note = $("annotate-note");
    note.textContent = "正在生成标注副本…";
    const form = new FormData();
    form.append("file", file, file.name);
    try {
      const resp = await fetch("/api/annotate", { method: "POST", body: form, headers });
      if (file !== lastFile) return; // another file was dropped meanwhile
      if (!resp.ok) {
        let body = null;
        try { body = await resp.json(); } catch (e) { body = null; }
        note.textContent = (body && (body.annotate_error || body.detail || body.error)) || "无法生成标注副本";
        return;
      }
      const blob = await resp.blob();
      if (downloadUrl) URL.revokeObjectURL(downloadUrl);
      downloadUrl = URL.createObjectURL(blob);
      const a = $("download");
      a.href = downloadUrl;
      a.download = decodeURIComponent(resp.headers.get("X-Perfeval-Name") || "已校验.xlsx");
      a.hidden = false;
      note.textContent = "副本中有问题的单元格已标色并加批注，首页为“校验结果”工作表。";
    } catch (e) {
      note.textContent = "无法生成标注副本（" + e + "）";
    }
  }

  function render(r) {
    const v = $("verdict");
    v.className = "verdict";
    if (!r.ok) {
      v.classList.add("refused");
      v.textContent = r.file + "：无法校验 — " + r.error;
    } else if (!r.findings.length) {
      v.classList.add("clean");
      v.textContent = r.file + "：未发现问题";
    } else {
      v.classList.add(r.counts.error ? "errors" : "findings");
      v.textContent = r.file + "：错误 " + r.counts.error + " 项，警告 " + r.counts.warning +
        " 项，提示 " + r.counts.info + " 项";
    }
    const m = r.metrics || {};
    const dl = $("metrics");
    dl.replaceChildren();
    if (r.ok) {
      const items = [["单位", m.department || "—"], ["年度", m.year || "—"], ["执行率", pct(m.execution_rate)],
        ["复核总分", num(m.total_score)], ["表中自评总分", num(m.self_total_score)], ["等级", m.grade || "—"]];
      for (const [k, val] of items) {
        const d = el("div");
        d.append(el("dt", {}, k), el("dd", {}, val));
        dl.append(d);
      }
    }
    const prov = $("provisional");
    prov.hidden = !m.score_provisional;
    prov.textContent = m.score_provisional ? "注意：复核总分与等级为暂定 — " + (m.score_note || "") : "";
    const a = $("download");
    if (downloadUrl) { URL.revokeObjectURL(downloadUrl); downloadUrl = null; }
    if (r.annotated) {
      const bytes = Uint8Array.from(atob(r.annotated), (c) => c.charCodeAt(0));
      downloadUrl = URL.createObjectURL(new Blob([bytes], { type: "application/octet-stream" }));
      a.href = downloadUrl;
      a.download = r.annotated_name;
      a.hidden = false;
      $("annotate-note").textContent = "副本中有问题的单元格已标色并加批注，首页为“校验结果”工作表。";
    } else {
      a.hidden = true;
      $("annotate-note").textContent = r.annotate_error || "";
    }
    const groups = $("groups");
    groups.replaceChildren();
    for (const g of r.groups) {
      groups.append(el("h2", { class: "sheet" }, "【" + (g.sheet || "工作簿") + "】 " + g.findings.length + " 项"));
      const t = el("table", { class: "findings" });
      const cols = el("colgroup");
      for (const c of ["c-cell", "c-sev", "c-code", "c-msg", "c-exp", "c-act"]) cols.append(el("col", { class: c }));
      t.append(cols);
      const head = el("tr");
      for (const h of ["单元格", "严重程度", "代码", "说明", "应为", "实为"]) head.append(el("th", {}, h));
      const thead = el("thead");
      thead.append(head);
      t.append(thead);
      const tb = el("tbody");
      for (const f of g.findings) {
        const tr = el("tr", { class: f.severity });
        tr.append(el("td", {}, f.cell || "—"), el("td", { class: "sev" }, f.severity_label), el("td", {}, f.code),
          el("td", {}, f.message), el("td", {}, f.expected || ""), el("td", {}, f.actual || ""));
        tb.append(tr);
      }
      t.append(tb);
      groups.append(t);
    }
    $("result").hidden = false;
  }

  function init() {
    const drop = $("drop"), input = $("file");
    drop.addEventListener("click", () => input.click());
    drop.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") input.click(); });
    input.addEventListener("change", () => { if (input.files.length) send(input.files[0]); input.value = ""; });
    drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
    drop.addEventListener("dragleave", () => drop.classList.remove("over"));
    drop.addEventListener("drop", (e) => {
      e.preventDefault();
      drop.classList.remove("over");
      const files = e.dataTransfer && e.dataTransfer.files;
      if (files && files.length) send(files[0]);
    });
    $("token-save").addEventListener("click", () => {
      localStorage.setItem(TOKEN_KEY, $("token").value.trim());
      if (lastFile) send(lastFile);
    });
    fetch("/health").then((r) => r.json()).then((h) => { $("version").textContent = "perfeval-xl " + h.version; })
      .catch(() => {});
  }

  window.perfevalPage = { send, render };
  init();
})();
