// A small recording fake of Office.js for the add-in's command page (served instead of Microsoft's office.js).
// It keeps a workbook in window.__fakeBook and behaves like Excel where the add-in could go wrong:
//   - operations are queued and run at context.sync(), in order; the first that fails rejects the sync
//     (operations before it stay applied, as in Excel);
//   - a property read before load() + sync() throws PropertyNotLoaded;
//   - writing to a protected sheet fails with AccessDenied; adding/deleting sheets in a protected
//     workbook fails with AccessDenied;
//   - notes (ExcelApi 1.18) fail with ApiNotFound when the fake host's apiVersion is lower.
// Every change is recorded in window.__fake.log.
(function () {
  "use strict";
  const S = window.__fakeBook || { name: "空.xlsx", apiVersion: "1.18", sheets: [] };
  const rec = (window.__fake = { log: [], dialogs: [], actions: {}, functions: {}, state: S, errors: [] });
  const minor = (v) => parseInt(String(v).split(".")[1] || "0", 10);

  function fail(code, message) {
    const e = new Error(message);
    e.code = code;
    e.name = "RichApi.Error";
    return e;
  }
  const colName = (c) => { let s = ""; c += 1; while (c) { const r = (c - 1) % 26; s = String.fromCharCode(65 + r) + s; c = (c - r - 1) / 26; } return s; };
  const a1 = (r, c) => colName(c) + (r + 1);
  function parseA1(a) {
    const m = /^\$?([A-Z]+)\$?([0-9]+)$/.exec(String(a).split("!").pop());
    if (!m) throw fail("InvalidArgument", "bad address " + a);
    let c = 0;
    for (const ch of m[1]) c = c * 26 + (ch.charCodeAt(0) - 64);
    return [parseInt(m[2], 10) - 1, c - 1];
  }
  const quote = (n) => (/^[\w\u4e00-\u9fff]+$/.test(n) ? n : "'" + n.replace(/'/g, "''") + "'");

  for (const s of S.sheets) {
    s.fills = s.fills || {}; s.notes = s.notes || {}; s.fonts = s.fonts || {}; s.formats = s.formats || {};
    s.links = s.links || {}; s.widths = s.widths || {}; s.frozenRows = s.frozenRows || 0;
    s.visibility = s.visibility || "Visible"; s.protected = !!s.protected;
  }
  S.active = S.active || 0;

  function writable(sheet, what) {
    if (sheet.protected) throw fail("AccessDenied", "The cell or chart you're trying to change is on a protected sheet. (" + what + ")");
  }
  function record(op, sheet, addr, value) { rec.log.push([op, sheet ? sheet.name : null, addr, value]); }

  // A loadable proxy: props maps name -> () => value (read at sync); setters queue writes.
  function loadable(ctx, obj, props) {
    const vals = {};
    obj._fill = () => { for (const k of Object.keys(props)) vals[k] = props[k](); };
    obj.load = function () { ctx._ops.push(obj._fill); return obj; };
    for (const k of Object.keys(props)) {
      Object.defineProperty(obj, k, {
        configurable: true,
        get() {
          if (!(k in vals)) throw fail("PropertyNotLoaded", "The property '" + k + "' is not available. Before reading the property's value, call the load method on the containing object and call \"context.sync()\" on the associated request context.");
          return vals[k];
        },
        set(v) { if (obj._set) obj._set(k, v); else throw fail("InvalidOperation", k + " is read-only"); },
      });
    }
    return obj;
  }

  function requireNotes() {
    if (minor(S.apiVersion) < 18) throw fail("ApiNotFound", "The API you are trying to use could not be found. It may be available in a newer version of Excel.");
  }

  function Range(ctx, sheet, r, c, rc, cc) {
    const cells = () => { const out = []; for (let i = 0; i < rc; i++) for (let j = 0; j < cc; j++) out.push(a1(r + i, c + j)); return out; };
    const self = loadable(ctx, {}, {
      values: () => Array.from({ length: rc }, (_, i) => Array.from({ length: cc }, (_, j) => {
        const row = sheet.values[r + i] || [];
        return row[c + j] === undefined ? "" : row[c + j];
      })),
      address: () => quote(sheet.name) + "!" + a1(r, c) + (rc * cc > 1 ? ":" + a1(r + rc - 1, c + cc - 1) : ""),
    });
    self._sheet = sheet; self._cell = a1(r, c);
    self._set = (k, v) => ctx._ops.push(() => {
      writable(sheet, k);
      if (k === "values") {
        v.forEach((row, i) => row.forEach((x, j) => {
          while (sheet.values.length <= r + i) sheet.values.push([]);
          const line = sheet.values[r + i];
          while (line.length <= c + j) line.push("");
          line[c + j] = x;
        }));
        record("setValues", sheet, a1(r, c), v.length);
      } else if (k === "numberFormat") { cells().forEach((a) => { sheet.formats[a] = v[0][0]; }); record("numberFormat", sheet, a1(r, c), v[0][0]); }
      else if (k === "hyperlink") { sheet.links[a1(r, c)] = v; record("hyperlink", sheet, a1(r, c), v.documentReference || v.address); }
      else throw fail("InvalidArgument", "unknown range property " + k);
    });
    Object.defineProperty(self, "numberFormat", { set(v) { self._set("numberFormat", v); } });
    Object.defineProperty(self, "hyperlink", { set(v) { self._set("hyperlink", v); } });
    const fill = {
      clear() { ctx._ops.push(() => { writable(sheet, "fill"); cells().forEach((a) => { delete sheet.fills[a]; }); record("fillClear", sheet, a1(r, c)); }); },
    };
    Object.defineProperty(fill, "color", { set(v) { ctx._ops.push(() => { writable(sheet, "fill"); cells().forEach((a) => { sheet.fills[a] = String(v).toLowerCase(); }); record("fill", sheet, a1(r, c), v); }); } });
    const font = new Proxy({}, { set(_, prop, v) { ctx._ops.push(() => { writable(sheet, "font"); cells().forEach((a) => { sheet.fonts[a] = Object.assign(sheet.fonts[a] || {}, { [prop]: v }); }); }); return true; } });
    const format = { fill, font };
    Object.defineProperty(format, "columnWidth", { set(v) { ctx._ops.push(() => { writable(sheet, "width"); sheet.widths[colName(c)] = v; }); } });
    self.format = format;
    return self;
  }

  function Notes(ctx, sheet) {
    const self = {
      load() { ctx._ops.push(() => { requireNotes(); self._items = Object.keys(sheet.notes).map((addr) => Note(ctx, sheet, addr)); }); return self; },
      get items() { if (!self._items) throw fail("PropertyNotLoaded", "The property 'items' is not available."); return self._items; },
      add(cell, text) {
        ctx._ops.push(() => {
          requireNotes(); writable(sheet, "note");
          const addr = typeof cell === "string" ? cell.replace(/\$/g, "").split("!").pop() : cell._cell;
          if (addr in sheet.notes) throw fail("InvalidArgument", "The cell already has a note.");
          sheet.notes[addr] = text; record("addNote", sheet, addr, text);
        });
      },
      getItem(key) { return Note(ctx, sheet, String(key).replace(/\$/g, "").split("!").pop()); },
    };
    return self;
  }

  function Note(ctx, sheet, addr) {
    const self = {
      getLocation() { const [r, c] = parseA1(addr); return Range(ctx, sheet, r, c, 1, 1); },
      delete() { ctx._ops.push(() => { requireNotes(); writable(sheet, "note"); if (!(addr in sheet.notes)) throw fail("ItemNotFound", "note " + addr); delete sheet.notes[addr]; record("deleteNote", sheet, addr); }); },
    };
    Object.defineProperty(self, "content", { set(v) { ctx._ops.push(() => { requireNotes(); writable(sheet, "note"); sheet.notes[addr] = v; record("setNoteText", sheet, addr, v); }); } });
    return self;
  }

  function Worksheet(ctx, sheet) {
    const self = loadable(ctx, {}, {
      name: () => sheet.name,
      visibility: () => sheet.visibility,
      position: () => S.sheets.indexOf(sheet),
    });
    self._set = (k, v) => ctx._ops.push(() => {
      if (k === "visibility") { sheet.visibility = v; record("visibility", sheet, null, v); }
      else if (k === "position") {
        if (S.protected) throw fail("AccessDenied", "The workbook's structure is protected.");
        S.sheets.splice(S.sheets.indexOf(sheet), 1); S.sheets.splice(v, 0, sheet); record("position", sheet, null, v);
      } else throw fail("InvalidArgument", "unknown sheet property " + k);
    });
    self.protection = loadable(ctx, {}, { protected: () => sheet.protected, options: () => sheet.options || {} });
    self.protection.unprotect = (password) => ctx._ops.push(() => {
      if (sheet.password && password !== sheet.password) throw fail("InvalidArgument", "The password you supplied is not correct.");
      sheet.protected = false; record("unprotect", sheet);
    });
    self.protection.protect = (options, password) => ctx._ops.push(() => {
      if (sheet.protected) throw fail("InvalidOperation", "The worksheet is already protected.");
      sheet.protected = true; sheet.options = options || {}; sheet.password = password || ""; record("protect", sheet, null, options);
    });
    self.getUsedRangeOrNullObject = () => {
      let rows = 0, cols = 0;
      sheet.values.forEach((row, i) => row.forEach((v, j) => { if (v !== "" && v !== null) { rows = Math.max(rows, i + 1); cols = Math.max(cols, j + 1); } }));
      const u = loadable(ctx, {}, { rowIndex: () => 0, columnIndex: () => 0, rowCount: () => rows, columnCount: () => cols, isNullObject: () => rows === 0 });
      return u;
    };
    self.getRangeByIndexes = (r, c, rc, cc) => Range(ctx, sheet, r, c, rc, cc);
    self.getRange = (addr) => { const [r, c] = parseA1(addr); return Range(ctx, sheet, r, c, 1, 1); };
    let notes = null; // a navigation property: the same object each time, as in Office.js
    Object.defineProperty(self, "notes", { get() { return (notes = notes || Notes(ctx, sheet)); } });
    self.freezePanes = { freezeRows(n) { ctx._ops.push(() => { sheet.frozenRows = n; record("freezeRows", sheet, null, n); }); } };
    self.activate = () => ctx._ops.push(() => { S.active = S.sheets.indexOf(sheet); record("activate", sheet); });
    self.delete = () => ctx._ops.push(() => {
      if (S.protected) throw fail("AccessDenied", "The workbook's structure is protected.");
      S.sheets.splice(S.sheets.indexOf(sheet), 1); record("deleteSheet", sheet);
    });
    return self;
  }

  function Workbook(ctx) {
    const wb = loadable(ctx, {}, { name: () => S.name });
    wb.protection = loadable(ctx, {}, { protected: () => !!S.protected });
    wb.protection.unprotect = (password) => ctx._ops.push(() => {
      if (S.password && password !== S.password) throw fail("InvalidArgument", "The password you supplied is not correct.");
      S.protected = false; record("unprotectBook", null);
    });
    wb.protection.protect = (password) => ctx._ops.push(() => { S.protected = true; S.password = password || ""; record("protectBook", null); });
    const sheets = {
      load() { ctx._ops.push(() => { sheets._items = S.sheets.map((s) => { const w = Worksheet(ctx, s); w._fill(); return w; }); }); return sheets; },
      get items() { if (!sheets._items) throw fail("PropertyNotLoaded", "The property 'items' is not available."); return sheets._items; },
      getActiveWorksheet() { return Worksheet(ctx, S.sheets[S.active]); },
      getItem(name) {
        const sheet = S.sheets.find((s) => s.name === name);
        if (!sheet) throw fail("ItemNotFound", "no sheet " + name);
        return Worksheet(ctx, sheet);
      },
      add(name) {
        const sheet = { name, values: [[""]], fills: {}, notes: {}, fonts: {}, formats: {}, links: {}, widths: {}, frozenRows: 0, visibility: "Visible", protected: false };
        ctx._ops.push(() => {
          if (S.protected) throw fail("AccessDenied", "The workbook's structure is protected.");
          if (S.sheets.some((s) => s.name === name)) throw fail("ItemAlreadyExists", "A sheet named " + name + " exists.");
          S.sheets.push(sheet); record("addSheet", sheet);
        });
        return Worksheet(ctx, sheet);
      },
    };
    wb.worksheets = sheets;
    const names = {
      load() { ctx._ops.push(() => { names._items = (S.names || []).map((n) => { const x = NamedItem(ctx, n); x._fill(); return x; }); }); return names; },
      get items() { if (!names._items) throw fail("PropertyNotLoaded", "The property 'items' is not available."); return names._items; },
    };
    wb.names = names;
    return wb;
  }

  function NamedItem(ctx, n) {
    const self = loadable(ctx, {}, { name: () => n.name, type: () => "Range" });
    self.getRangeOrNullObject = () => {
      const sheet = S.sheets.find((s) => s.name === n.sheet);
      const [first, last] = String(n.address).split(":");
      const [r, c] = parseA1(first);
      const [r2, c2] = last ? parseA1(last) : [r, c];
      return Range(ctx, sheet, r, c, r2 - r + 1, c2 - c + 1);
    };
    return self;
  }

  class Context {
    constructor() { this._ops = []; this.workbook = Workbook(this); }
    async sync() {
      const ops = this._ops;
      this._ops = [];
      for (const op of ops) {
        try { op(); } catch (e) { rec.errors.push(e.code); throw e; }
      }
    }
  }

  // the custom-functions runtime: functions register here and the test calls them as Excel would
  class CustomFunctionError extends Error { constructor(code, message) { super(message); this.code = code; } }
  window.CustomFunctions = {
    associate(id, fn) { rec.functions[id] = fn; },
    Error: CustomFunctionError,
    ErrorCode: { notAvailable: "#N/A", invalidValue: "#VALUE!", divisionByZero: "#DIV/0!" },
  };

  window.Excel = {
    run: async (cb) => { const ctx = new Context(); const out = await cb(ctx); await ctx.sync(); return out; },
  };
  window.Office = {
    EventType: { DialogMessageReceived: "dialogMessageReceived", DialogEventReceived: "dialogEventReceived" },
    onReady(cb) { return Promise.resolve({ host: "Excel", platform: "PC" }).then((info) => { if (cb) cb(info); return info; }); },
    actions: { associate(name, fn) { rec.actions[name] = fn; } },
    context: {
      requirements: { isSetSupported: (set, v) => set === "ExcelApi" && minor(v) <= minor(S.apiVersion) },
      ui: {
        displayDialogAsync(url, opts, cb) {
          const q = new URL(url).searchParams;
          rec.dialogs.push({ title: q.get("title"), text: q.get("text"), path: new URL(url).pathname });
          const handlers = {};
          cb({ status: "succeeded", value: {
            addEventHandler(type, h) { handlers[type] = h; if (type === "dialogMessageReceived") setTimeout(() => h({ message: "ok" }), 0); },
            close() {},
          } });
        },
      },
    },
  };
})();
