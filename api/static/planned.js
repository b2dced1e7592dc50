// In a stop's panel, for a key that may operate: turn the stop into planned stop time (a
// meeting, no order: its kind and a reason), or undo that. PUT or DELETE
// /api/v1/machines/{id}/stops/{start}/planned at the stop's exact start; the answer
// updates the stop, the OEE figures follow on SSE `oee` (availability no longer counts it).
"use strict";

import { el, field } from "./dom.js";
import { t } from "./i18n.js";

export const KINDS = ["meeting", "maintenance", "no_order", "break", "other"];

/**
 * The panel's planned-time section for `stop` ({machine, start, planned_kind,
 * planned_reason, …}). hooks: exactStart(stop), send(method, path, body) -> answer,
 * planned(stop, answer, text) (after a change, with what to say), status(text) (a failure).
 */
export function plannedSection(stop, hooks) {
  const box = el("section", "planned-box");
  box.append(el("h3", "", t("plannedTitle")));
  if (stop.planned_kind) {
    box.append(el("p", "planned-now", t("plannedNow", t("kind", stop.planned_kind),
      stop.planned_reason || "")));
    const undo = el("button", "choice undo", t("plannedUndo"));
    undo.type = "button";
    undo.addEventListener("click", () => change(stop, hooks, "DELETE", undefined));
    box.append(undo);
    return box;
  }
  const form = el("form", "planned-form");
  const kind = el("select");
  kind.name = "kind";
  for (const k of KINDS) {
    const o = el("option", "", t("kind", k));
    o.value = k;
    kind.append(o);
  }
  const reason = el("input");
  Object.assign(reason, { name: "reason", type: "text", required: true, maxLength: 200 });
  reason.placeholder = t("plannedReasonHint");
  const save = el("button", "choice primary", t("plannedMake"));
  save.type = "submit";
  form.append(field(t("plannedKind"), kind), field(t("plannedReason"), reason), save);
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    change(stop, hooks, "PUT", { kind: kind.value, reason: reason.value.trim() });
  });
  box.append(form);
  return box;
}

async function change(stop, hooks, method, body) {
  try {
    const start = await hooks.exactStart(stop);
    const path = "api/v1/machines/" + encodeURIComponent(stop.machine) + "/stops/" +
      encodeURIComponent(start) + "/planned";
    const answer = await hooks.send(method, path, body);
    stop.planned_kind = answer.kind;
    stop.planned_reason = answer.reason;
    hooks.planned(stop, answer,
      answer.kind ? t("plannedSaved", t("kind", answer.kind)) : t("plannedUndone"));
  } catch (err) {
    hooks.status(t("failed", err.message));
  }
}
