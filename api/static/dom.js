// The one way the page makes elements. Text goes in with textContent only: names,
// reasons and paths come from the config and the PLCs, they are not HTML.
"use strict";

export function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

/** Show `body` in the page's one modal <dialog> under `title`, with a Close button
 * (Escape closes it too); focus goes to `focus` (a selector), else Close. */
export function showDialog(dialog, title, body, closeText, focus = ".choices button") {
  const close = el("button", "close", closeText);
  close.type = "button";
  close.addEventListener("click", () => dialog.close());
  const head = el("header");
  const h = el("h2", "", title);
  h.id = "panel-title";
  head.append(h, close);
  dialog.replaceChildren(head, ...body);
  if (!dialog.open) dialog.showModal();
  (dialog.querySelector(focus) || close).focus();
}

/** A labelled field: <label>text <control></label>. */
export function field(text, control) {
  const label = el("label", "field");
  label.append(el("span", "", text), control);
  return label;
}
