// api.js: the HTTP API of dispatchd (same origin, cookie auth).

/** HTTPError carries the status of a failed request and the server's reason ({code, ...params}, or null). */
export class HTTPError extends Error {
  constructor(status, message, reason) {
    super(message);
    this.status = status;
    this.reason = reason || null;
  }
}

async function check(res) {
  if (res.ok) return res;
  let msg = res.statusText;
  let reason = null;
  try {
    const text = await res.text();
    try {
      const j = JSON.parse(text);
      msg = j.error || j.message || text;
      reason = j.reason || null;
    } catch {
      msg = text.trim() || msg;
    }
  } catch {
    // keep the status text
  }
  throw new HTTPError(res.status, `${res.status} ${msg}`, reason);
}

/** getJSON fetches a JSON document. */
export async function getJSON(path) {
  const res = await fetch(path, { credentials: "same-origin", headers: { Accept: "application/json" } });
  await check(res);
  return res.json();
}

/** tryJSON fetches a JSON document and returns fallback on any error (optional routes). */
export async function tryJSON(path, fallback) {
  try {
    return await getJSON(path);
  } catch {
    return fallback;
  }
}

/**
 * postAction sends one action, {kind, incident, unit, new_unit, reason,
 * type, lat, lng}, and returns the incident as the engine left it. The page
 * does not apply it: it waits for the pushed events.
 */
export async function postAction(action) {
  const body = {};
  for (const [k, v] of Object.entries(action)) if (v !== undefined && v !== "" && v !== null) body[k] = v;
  const res = await fetch("/api/actions", {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify(body),
  });
  await check(res);
  return res.json().catch(() => null);
}
