// The add-in's command page: the 校验 and 清除标记 buttons of the 绩效自评 tab.
// It turns the open workbook into xlwings' remote-interpreter payload, posts it to the service, and applies the
// actions that come back (the same marks the desktop button makes). No rule lives here.
(function () {
  "use strict";
  const NOTES_API = "1.18"; // Excel notes (批注) in Office.js; below it the 校验结果 sheet carries the text
  const ORIGIN = location.origin; // the service that served this page
  const TOKEN = new URLSearchParams(location.search).get("t") || "";

  class UserError extends Error {}

  function notesSupported() {
    return Office.context.requirements.isSetSupported("ExcelApi", NOTES_API);
  }

  function rowOf(a1) {
    const m = /([0-9]+)$/.exec(String(a1).replace(/\$/g, ""));
    return m ? parseInt(m[1], 10) : 1;
  }

  function splitAddress(address) {
    // "'三公 经费'!$D$4" -> ["三公 经费", "D4"]
    const i = address.lastIndexOf("!");
    let sheet = i >= 0 ? address.slice(0, i) : "";
    if (sheet.startsWith("'") && sheet.endsWith("'")) sheet = sheet.slice(1, -1).replace(/''/g, "'");
    return [sheet, address.slice(i + 1).replace(/\$/g, "")];
  }

  // ---- the workbook -> the payload (values from A1 to the end of the used range, names, notes) ----------
  async function buildPayload(context) {
    const wb = context.workbook;
    const sheets = wb.worksheets;
    sheets.load("items/name,items/visibility");
    const names = wb.names;
    names.load("items/name,items/type");
    wb.load("name");
    wb.protection.load("protected");
    const active = sheets.getActiveWorksheet();
    active.load("position");
    await context.sync();
    const notes = notesSupported();
    const used = sheets.items.map((s) => {
      const u = s.getUsedRangeOrNullObject(true);
      u.load("rowIndex,columnIndex,rowCount,columnCount");
      return u;
    });
    const protection = sheets.items.map((s) => { s.protection.load("protected,options"); return s.protection; });
    const nameRanges = names.items.map((n) => {
      if (n.type !== "Range") return null;
      const r = n.getRangeOrNullObject();
      r.load("address");
      return r;
    });
    const noteLists = notes ? sheets.items.map((s) => { const n = s.notes; n.load("items"); return n; }) : null;
    await context.sync();
    const valueRanges = sheets.items.map((s, i) => {
      const u = used[i];
      if (u.isNullObject) return null;
      const r = s.getRangeByIndexes(0, 0, u.rowIndex + u.rowCount, u.columnIndex + u.columnCount);
      r.load("values");
      return r;
    });
    const noteCells = notes ? noteLists.map((c) => c.items.map((n) => {
      const r = n.getLocation();
      r.load("address");
      return r;
    })) : null;
    await context.sync();

    const sheetNames = sheets.items.map((s) => s.name);
    const payload = {
      client: "Office.js",
      version: "",
      book: { name: wb.name, active_sheet_index: active.position, selection: "A1" },
      names: [],
      sheets: sheets.items.map((s, i) => {
        const sheet = {
          name: s.name,
          values: valueRanges[i] ? valueRanges[i].values : [[""]],
          pictures: [],
          tables: [],
          visibility: s.visibility,
          protected: protection[i].protected,
        };
        if (notes) sheet.notes = noteCells[i].map((r) => ({ address: splitAddress(r.address)[1] }));
        else sheet.notes_supported = false;
        return sheet;
      }),
    };
    names.items.forEach((n, i) => {
      const r = nameRanges[i];
      if (!r || r.isNullObject || r.address.includes(",")) return;
      const [sheet, address] = splitAddress(r.address);
      const index = sheetNames.indexOf(sheet);
      if (index < 0) return;
      payload.names.push({ name: n.name, sheet_index: index, address: address, scope_sheet_name: null,
        scope_sheet_index: null, book_scope: true });
    });
    const options = {};
    sheets.items.forEach((s, i) => { options[s.name] = protection[i].options; });
    return { payload, guard: { notes, bookProtected: wb.protection.protected, options,
      protectedSheets: payload.sheets.filter((s) => s.protected).map((s) => s.name), sheetNames } };
  }

  // ---- protection: which protected sheets the actions write to, and whether they add or delete sheets -----
  function needsUnlocking(actions, guard) {
    const names = guard.sheetNames.slice();
    const written = new Set();
    let structure = false;
    for (const a of actions) {
      if (a.func === "addSheet") { names.splice(a.args[0], 0, a.args[1]); structure = true; continue; }
      if (a.func === "sheetDelete") { names.splice(a.sheet_position, 1); structure = true; continue; }
      if (a.func === "alert" || a.func === "activateSheet") continue;
      if (a.sheet_position !== null && a.sheet_position !== undefined) written.add(names[a.sheet_position]);
    }
    return { sheets: guard.protectedSheets.filter((n) => written.has(n)), structure: structure && guard.bookProtected };
  }

  // As the desktop button does: protection without a password (the template's) is lifted for the marking and
  // put back with the same options afterwards; a password is never guessed: then nothing is changed at all.
  async function unlock(context, need, guard) {
    const wb = context.workbook;
    const undone = { sheets: [], book: false };
    const locked = [];
    for (const name of need.sheets) {
      wb.worksheets.getItem(name).protection.unprotect();
      try { await context.sync(); undone.sheets.push(name); } catch (e) { locked.push(name); }
    }
    let bookLocked = false;
    if (need.structure) {
      wb.protection.unprotect();
      try { await context.sync(); undone.book = true; } catch (e) { bookLocked = true; }
    }
    if (locked.length || bookLocked) {
      await relock(context, undone, guard);
      throw new UserError((locked.length
        ? "工作表“" + locked.join("”“") + "”设有密码保护，无法标注。请先“审阅 → 撤销工作表保护”（输入密码），"
        : "工作簿结构设有密码保护，无法添加“校验结果”工作表。请先“审阅 → 保护工作簿”（输入密码）取消保护，") +
        "再点“校验”。工作簿未作任何改动。");
    }
    return undone;
  }

  async function relock(context, undone, guard) {
    const wb = context.workbook;
    for (const name of undone.sheets) wb.worksheets.getItem(name).protection.protect(guard.options[name]);
    if (undone.book) wb.protection.protect();
    await context.sync();
  }

  // ---- the actions (xlwings' book.json()) -> Office.js calls -------------------------------------------
  async function applyActions(context, actions, notes) {
    const wb = context.workbook;
    wb.worksheets.load("items/name");
    await context.sync();
    const list = wb.worksheets.items.slice(); // positions as the actions see them
    const alerts = [];
    const skipped = {};
    for (const a of actions) {
      const ws = a.sheet_position === null || a.sheet_position === undefined ? null : list[a.sheet_position];
      const range = () => ws.getRangeByIndexes(a.start_row, a.start_column, a.row_count, a.column_count);
      switch (a.func) {
        case "setValues": range().values = a.values; break;
        case "setRangeColor":
          if (a.args[0]) range().format.fill.color = a.args[0]; else range().format.fill.clear();
          break;
        case "addNote":
          if (notes) ws.notes.add(ws.getRange(a.args[0]), a.args[1]); else skipped.addNote = (skipped.addNote || 0) + 1;
          break;
        case "setNoteText":
          if (notes) ws.notes.getItem(a.args[0].replace(/\$/g, "")).content = a.args[1];
          break;
        case "deleteNote":
          if (notes) ws.notes.getItem(a.args[0].replace(/\$/g, "")).delete();
          break;
        case "addSheet": {
          const s = wb.worksheets.add(a.args[1]);
          s.position = a.args[0];
          list.splice(a.args[0], 0, s);
          break;
        }
        case "sheetDelete": ws.delete(); list.splice(a.sheet_position, 1); break;
        case "setSheetVisibility": ws.visibility = a.args[0]; break;
        case "activateSheet": list[a.args[0]].activate(); break;
        case "setColumnWidth": range().format.columnWidth = a.args[0]; break;
        case "setNumberFormat":
          range().numberFormat = Array.from({ length: a.row_count }, () => Array(a.column_count).fill(a.args[0]));
          break;
        case "setFontProperty": range().format.font[a.args[0]] = a.args[1]; break;
        case "addHyperlink": {
          const link = String(a.args[0]);
          range().hyperlink = link.startsWith("#")
            ? { documentReference: link.slice(1), textToDisplay: a.args[1] }
            : { address: link, textToDisplay: a.args[1] };
          break;
        }
        case "freezePaneAtRange": ws.freezePanes.freezeRows(rowOf(a.args[0]) - 1); break;
        case "alert": alerts.push({ text: a.args[0], title: a.args[1] }); break;
        default: skipped[a.func] = (skipped[a.func] || 0) + 1; // nothing our marks need
      }
    }
    await context.sync();
    return { alerts, skipped };
  }

  function showAlert(title, text) {
    const url = ORIGIN + "/addin/alert.html?title=" + encodeURIComponent(title) + "&text=" + encodeURIComponent(text);
    return new Promise((resolve) => {
      Office.context.ui.displayDialogAsync(url, { height: 35, width: 30, displayInIframe: true }, (res) => {
        if (res.status !== "succeeded") { resolve(); return; }
        const dialog = res.value;
        dialog.addEventHandler(Office.EventType.DialogMessageReceived, () => { dialog.close(); resolve(); });
        dialog.addEventHandler(Office.EventType.DialogEventReceived, () => resolve());
      });
    });
  }

  async function post(action, payload) {
    const headers = { "Content-Type": "application/json" };
    if (TOKEN) headers.Authorization = "Bearer " + TOKEN;
    let resp;
    try {
      resp = await fetch(ORIGIN + "/api/xlwings/" + action, { method: "POST", headers, body: JSON.stringify(payload) });
    } catch (e) {
      throw new UserError("无法连接财政局的校验服务（" + ORIGIN + "），请检查网络后重试。");
    }
    let body = {};
    try { body = await resp.json(); } catch (e) { body = {}; }
    if (!resp.ok) throw new UserError(body.detail || "校验服务出错（HTTP " + resp.status + "）。");
    return body;
  }

  async function run(action, event) {
    try {
      await Excel.run(async (context) => {
        const { payload, guard } = await buildPayload(context);
        const body = await post(action, payload);
        const undone = await unlock(context, needsUnlocking(body.actions, guard), guard);
        let out;
        try {
          out = await applyActions(context, body.actions, guard.notes);
        } finally {
          await relock(context, undone, guard);
        }
        if (action === "clear") {
          await showAlert("绩效自评校验", body.restored ? "已清除标记，恢复了 " + body.restored + " 个单元格。" : "没有需要清除的标记。");
        }
        for (const a of out.alerts) await showAlert(a.title || "绩效自评校验", a.text);
      });
    } catch (e) {
      const text = e instanceof UserError ? e.message : "操作未能完成：" + (e && (e.message || e.code) || e);
      await showAlert("绩效自评校验", text);
    } finally {
      if (event && typeof event.completed === "function") event.completed();
    }
  }

  function validate(event) { return run("validate", event); }
  function clearMarks(event) { return run("clear", event); }

  window.validate = validate; // FunctionFile commands are looked up by name
  window.clearMarks = clearMarks;
  window.perfevalAddin = { buildPayload, applyActions, needsUnlocking, run, validate, clearMarks };
  Office.onReady(() => {
    if (Office.actions && Office.actions.associate) {
      Office.actions.associate("validate", validate);
      Office.actions.associate("clearMarks", clearMarks);
    }
  });
})();
