// Work orders on the live page (issue 19): each card's current order (id, product,
// customer, good / quantity, the expected end at the current rate, its status) and the
// orders view: per machine its orders, late and at-risk first, then in queue order, with
// an operate key's start / pause / resume / end (POST /api/v1/machines/{id}/order, after
// a confirmation in the page's dialog; a refusal's words shown as the API gives them),
// and the changeover matrix (GET /api/v1/changeovers/matrix, the last 28 days).
//
// Where the data comes from: one GET /api/v1/orders for every machine (the `…/order`
// figures of each order, computed at the request) with every full load and machine
// re-read, at most once per RELOAD_MIN_MS while count or OEE events come (the live
// stream carries no order events), and at once after a command.
"use strict";

import { el, showDialog } from "./dom.js";
import { clockTime, dayTime, language, lostTime, parts, pct, t, zone } from "./i18n.js";
import "./orderstexts.js";

const enc = encodeURIComponent;
const RELOAD_MIN_MS = 10000;
const MATRIX_MIN_MS = 30000;
const CLOSE_AFTER_MS = 1200;
// Late first, then at risk, then the rest; done last.
const RANK = { late: 0, at_risk: 1, on_track: 2, not_started: 2, done: 3 };

/**
 * hooks: api(path, init) -> answer, canOperate(), machineIds() -> ids in page order,
 * machineName(id), now() -> ms, changed() (the cards' order lines to draw again).
 */
export class OrdersPanel {
  constructor(root, dialog, hooks) {
    this.root = root;
    this.dialog = dialog;
    this.hooks = hooks;
    this.rows = null;    // GET /api/v1/orders' orders (null: not read yet)
    this.error = null;   // why they could not be read
    this.matrix = null;  // GET /api/v1/changeovers/matrix (or {error})
    this.loadedAt = 0;
    this.matrixAt = 0;
    this.timer = null;
  }

  /** Read the orders (and the matrix, unless read less than MATRIX_MIN_MS ago). */
  async load(matrixToo = true) {
    this.loadedAt = this.hooks.now();
    // A refusal (a read-only API: 503; InfluxDB only: the matrix's 501) is asked again
    // with the next full load only, not after every count.
    if (!matrixToo && (this.error !== null || (this.matrix && this.matrix.error))) return;
    const reads = [this.hooks.api("api/v1/orders").then((a) => {
      this.rows = a.orders;
      this.error = null;
    }, (err) => {
      this.error = err.message;
    })];
    if (matrixToo || this.hooks.now() - this.matrixAt >= MATRIX_MIN_MS) {
      this.matrixAt = this.hooks.now();
      reads.push(this.hooks.api("api/v1/changeovers/matrix").then((m) => {
        this.matrix = m;
      }, (err) => {
        this.matrix = { error: err.message };
      }));
    }
    await Promise.all(reads);
    this.draw();
    this.hooks.changed();
  }

  /** Read again soon (after counts): at most once per RELOAD_MIN_MS. */
  soon() {
    if (this.timer !== null) return;
    const wait = Math.max(0, this.loadedAt + RELOAD_MIN_MS - this.hooks.now());
    this.timer = setTimeout(() => {
      this.timer = null;
      this.load(false).catch(() => {});
    }, wait);
  }

  /** The order machine `id` runs now (null: none, or not known). */
  current(id) {
    return (this.rows || []).find((r) => r.current && r.order.machine === id) || null;
  }

  // ---------------------------------------------------------------- a card's order
  /** Fill a card's order box (render.js `refs.order`) for machine `id`. */
  drawCard(box, id) {
    if (this.rows === null) {
      box.hidden = true;
      return;
    }
    box.hidden = false;
    const row = this.current(id);
    if (!row) {
      box.dataset.order = "";
      box.replaceChildren(el("div", "ord-none", t("ordNone")));
      return;
    }
    const o = row.order;
    const p = row.progress || {};
    box.dataset.order = o.id;
    box.dataset.status = row.status;
    const head = el("div", "ord-head");
    head.append(el("strong", "ord-id", o.id), el("span", "ord-product", o.product),
      el("span", "ord-customer", o.customer || ""), statusBadge(row.status));
    box.replaceChildren(head, progressBar(p, o), el("div", "ord-end", this._endText(p)),
      el("div", "ord-due", t("ordDue", this._when(Date.parse(o.due)))));
  }

  _endText(p) {
    if (p.finished) return t("ordFinished", this._when(Date.parse(p.finished)));
    return p.eta_now ? t("ordEnd", this._when(Date.parse(p.eta_now))) : t("ordEndNone");
  }

  // A time today as 14:05, within half a year as "12/07, 14:05", else with its year.
  _when(ms) {
    if (Number.isNaN(ms)) return "–";
    const away = Math.abs(ms - this.hooks.now());
    if (away < 12 * 3600 * 1000) return clockTime(ms);
    if (away < 180 * 86400 * 1000) return dayTime(ms);
    return new Intl.DateTimeFormat(language(), { timeZone: zone(), year: "numeric", month: "2-digit",
      day: "2-digit" }).format(ms);
  }

  // ---------------------------------------------------------------- the view
  draw() {
    const items = [];
    if (this.error !== null) items.push(el("p", "ord-error", t("ordNotAvailable", this.error)));
    else if (this.rows !== null && !this.rows.length) items.push(el("p", "muted", t("ordNoneBook")));
    else if (this.rows !== null) items.push(...this._machines());
    items.push(this._matrix());
    this.root.replaceChildren(...items);
  }

  _machines() {
    const ids = this.hooks.machineIds();
    const of = new Map();
    for (const r of this.rows) {
      const m = r.order.machine;
      if (!of.has(m)) of.set(m, []);
      of.get(m).push(r);
    }
    const order = [...ids.filter((id) => of.has(id)), ...[...of.keys()].filter((id) => !ids.includes(id))];
    return order.map((id) => {
      const box = el("section", "ord-machine");
      box.dataset.machine = id;
      box.append(el("h4", "", this.hooks.machineName(id)));
      const list = el("div", "ord-list");
      list.append(...of.get(id).slice().sort(byUrgencyThenQueue).map((r) => this._row(r)));
      box.append(list);
      return box;
    });
  }

  _row(r) {
    const o = r.order;
    const p = r.progress || {};
    const row = el("div", "ord-row " + r.status);
    row.dataset.order = o.id;
    row.dataset.status = r.status;
    const what = el("div", "ord-what");
    what.append(el("strong", "ord-id", o.id), el("span", "ord-product", o.product),
      el("span", "ord-customer", o.customer || ""), statusBadge(r.status));
    if (r.current) what.append(el("span", "ord-run", "▶ " + t("ordRunning")));
    else if (p.started && !p.ended) what.append(el("span", "ord-paused", t("ordPaused")));
    const when = el("div", "ord-when");
    when.append(el("span", "ord-due", t("ordDue", this._when(Date.parse(o.due)))),
      el("span", "ord-end", this._endText(p)));
    row.append(what, progressBar(p, o), when);
    if (this.hooks.canOperate()) {
      const acts = el("div", "ord-acts");
      acts.append(...actionsOf(r).map((a) => {
        const b = el("button", "act", t("ordAct", a));
        b.type = "button";
        b.dataset.action = a;
        b.addEventListener("click", () => this.confirm(o.machine, o.id, a));
        return b;
      }));
      row.append(acts);
    }
    return row;
  }

  /** Ask before acting; the answer (or the refusal's words) shown in the dialog. */
  confirm(machine, order, action) {
    const status = el("p", "status-line");
    status.setAttribute("role", "status");
    const yes = el("button", "choice primary", t("ordYes") + ": " + t("ordAct", action));
    yes.type = "button";
    const body = [el("p", "", t("ordConfirm", action, order, this.hooks.machineName(machine)))];
    if (action === "end") body.push(el("p", "muted", t("ordConfirmEnd")));
    const choices = el("div", "choices");
    choices.append(yes);
    body.push(choices, status);
    showDialog(this.dialog, t("ordersTitle"), body, t("close"), ".choices .primary");
    yes.addEventListener("click", async () => {
      yes.disabled = true;
      status.classList.remove("error");
      try {
        await this.hooks.api("api/v1/machines/" + enc(machine) + "/order", {
          method: "POST", headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ order, action }),
        });
        status.textContent = t("ordDone", action, order);
        setTimeout(() => this.dialog.open && this.dialog.close(), CLOSE_AFTER_MS);
      } catch (err) {
        status.classList.add("error");
        status.textContent = t("ordRefused", err.message);
        yes.disabled = false;
      }
      await this.load(false).catch(() => {});
    });
  }

  _matrix() {
    const box = el("section", "ord-matrix");
    box.append(el("h4", "", t("matrixTitle")));
    const m = this.matrix;
    if (!m) return box;
    if (m.error) {
      box.append(el("p", "muted", t("ordNotAvailable", m.error)));
      return box;
    }
    if (!m.pairs.length) {
      box.append(el("p", "muted", t("matrixNone")));
      return box;
    }
    const table = el("table", "matrix");
    const head = el("tr");
    head.append(...t("matrixCols").map((c) => el("th", "", c)));
    const thead = el("thead");
    thead.append(head);
    const tbody = el("tbody");
    for (const p of m.pairs) {
      const tr = el("tr");
      tr.dataset.pair = p.from_product + ">" + p.to_product;
      const x = p.trend_s_per_week;
      const trend = x === null ? t("trend", null) : t("trend", x) + " · " +
        t("perWeek", (x > 0 ? "+" : x < 0 ? "−" : "") + lostTime(Math.abs(x)));
      for (const [cls, text] of [["pair", p.from_product + " → " + p.to_product],
        ["count", String(p.count)], ["median", secs(p.median_s)], ["p90", secs(p.p90_s)],
        ["standard", secs(p.standard_s)], ["loss", secs(p.loss_s)], ["trend", trend]]) {
        tr.append(el("td", cls, text));
      }
      if (p.loss_s > 0) tr.classList.add("over");
      tbody.append(tr);
    }
    table.append(thead, tbody);
    const wrap = el("div", "matrix-wrap");
    wrap.append(table);
    box.append(wrap);
    return box;
  }
}

const secs = (s) => (s === null || s === undefined ? "–" : lostTime(s));

function statusBadge(status) {
  const b = el("span", "ord-status " + (status || "none"), t("ordStatus", status));
  b.dataset.status = status || "";
  return b;
}

function progressBar(p, o) {
  const box = el("div", "ord-progress");
  const track = el("div", "track");
  const fill = el("div", "fill");
  const share = o.quantity ? Math.min(1, (p.good || 0) / o.quantity) : 0;
  fill.style.width = (100 * share) + "%";
  track.append(fill);
  box.append(track, el("span", "ord-count", t("ordGood", parts(p.good || 0), parts(o.quantity)) +
    " · " + pct(p.percent === null || p.percent === undefined ? null : p.percent / 100)));
  return box;
}

// The acts that apply to an order now (the API refuses the rest, saying why).
function actionsOf(r) {
  const p = r.progress || {};
  if (p.ended) return [];
  if (r.current) return ["pause", "end"];
  if (p.started) return ["resume", "end"];
  return ["start"];
}

// The book's queue: by planned start, then due, then id (README "Orders").
function byUrgencyThenQueue(a, b) {
  const ra = RANK[a.status] ?? 2;
  const rb = RANK[b.status] ?? 2;
  if (ra !== rb) return ra - rb;
  const key = (r) => [r.order.planned_start || "9999", r.order.due, r.order.id];
  const [ka, kb] = [key(a), key(b)];
  for (let i = 0; i < 3; i++) {
    const ta = i < 2 ? Date.parse(ka[i]) || Infinity : ka[i];
    const tb = i < 2 ? Date.parse(kb[i]) || Infinity : kb[i];
    if (ta < tb) return -1;
    if (ta > tb) return 1;
  }
  return 0;
}
