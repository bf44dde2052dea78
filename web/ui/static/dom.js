// dom.js: building DOM from data, never by parsing HTML. Strings always become
// text nodes, so an incident description such as "<script>" shows as text.

/**
 * h creates an element. attrs: class, id, title, type, value, disabled,
 * data-* and aria-* and other plain attributes; "on<event>" keys add
 * listeners. Children: strings/numbers (text), nodes, arrays, null (skipped).
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") {
      el.addEventListener(k.slice(2), v);
    } else if (k === "class") {
      el.className = v;
    } else if (k === "value") {
      el.value = v;
    } else if (k === "text") {
      el.textContent = String(v);
    } else {
      el.setAttribute(k, v === true ? "" : String(v));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
}

/** replace replaces the children of el by children. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

/** prioBadge returns the colour-coded priority badge "P1".."P4" (text, not only colour). */
export function prioBadge(p) {
  const n = p >= 1 && p <= 4 ? p : 4;
  return h("span", { class: "prio p" + n, title: "P" + n }, "P" + n);
}
