// The one way the page makes elements. Text goes in with textContent only: names,
// reasons and paths come from the config and the PLCs, they are not HTML.
"use strict";

export function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}
