// maplayers.js: what the map draws over the town areas, for a busy shift:
// town names placed so that they never overlap (the central districts sit
// 2 km apart: a name moves beside its centre, or waits for a closer zoom),
// depots, units coloured by status and, from zoom 13, labelled with their id
// and status, and incidents clustered when they crowd (one disc with the
// count, coloured by the most urgent priority; a click zooms in on it). An
// incident whose position a dispatcher gave approximately (a place, a map
// click) has a dashed ring. clusterPoints and placeLabels are tested in the
// browser (TestBusyModel).

import { TOWNS } from "./towns.js";
import { statusLabel } from "./i18n.js";
import { h } from "./dom.js";

export const PRIO_COLOUR = { 1: "#d00000", 2: "#e85d04", 3: "#d4a000", 4: "#2a6fdb" };
export const STATUS_COLOUR = {
  available: "#1b7f3b",
  dispatched: "#b5179e",
  en_route: "#7209b7",
  on_scene: "#3a0ca3",
  returning: "#4a7f9b",
  relocating: "#0f766e",
  out_of_service: "#777777",
};

/** statusLegend returns the map legend's unit statuses: a square in each status colour and its name. */
export function statusLegend() {
  return h(
    "span",
    { class: "lg-statuses" },
    Object.entries(STATUS_COLOUR).map(([st, colour]) => {
      const el = h("span", { class: "lg-st", "data-status": st }, "■ " + statusLabel(st));
      el.style.color = colour; // CSSOM, allowed by the page's CSP (no inline style attribute)
      return [el, " "];
    }),
  );
}

/** UNIT_LABEL_ZOOM: from this zoom on, units carry their id and status. */
export const UNIT_LABEL_ZOOM = 13;

/** CLUSTER_PX: incidents closer than this on screen are drawn as one cluster. */
export const CLUSTER_PX = 22;

/**
 * clusterPoints groups points {x, y, prio, ...} that lie within px of a
 * cluster's first point (most urgent first, so a P1 leads its cluster):
 * [{x, y, prio, items}], x/y the first point's.
 */
export function clusterPoints(points, px) {
  const sorted = [...points].sort((a, b) => (a.prio || 4) - (b.prio || 4));
  const out = [];
  const d2 = px * px;
  for (const p of sorted) {
    const c = out.find((k) => (k.x - p.x) ** 2 + (k.y - p.y) ** 2 < d2);
    if (c) c.items.push(p);
    else out.push({ x: p.x, y: p.y, prio: p.prio || 4, items: [p] });
  }
  return out;
}

function overlaps(a, b) {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

/**
 * placeLabels places labels {text, x, y, w, h} (x, y the anchor; in
 * priority order) beside their anchor, trying right, left, above and
 * below, so that no placed label overlaps another or an obstacle box
 * {x, y, w, h}; a label that fits nowhere is left out. It returns the
 * placed labels with their box {x, y, w, h} (top-left corner).
 */
export function placeLabels(labels, obstacles) {
  const placed = [];
  const taken = [...(obstacles || [])];
  for (const l of labels) {
    const tries = [
      [l.x + 5, l.y - l.h - 1],
      [l.x + 5, l.y + 2],
      [l.x - 5 - l.w, l.y - l.h - 1],
      [l.x - 5 - l.w, l.y + 2],
      [l.x - l.w / 2, l.y - l.h - 6],
      [l.x - l.w / 2, l.y + 6],
    ];
    for (const [x, y] of tries) {
      const box = { x, y, w: l.w, h: l.h };
      if (!taken.some((b) => overlaps(b, box))) {
        taken.push(box);
        placed.push({ ...l, box });
        break;
      }
    }
  }
  return placed;
}

/**
 * drawTownNames draws the towns' centres and, where they fit, their names
 * (mv.labels: the names placed), for the map's base layer.
 */
export function drawTownNames(g, mv, lang) {
  // town centres, then their names where they fit (bigger towns first)
  const centres = TOWNS.map((t) => {
    const [x, y] = mv.screen(t.lat, t.lng);
    return { t, x, y };
  });
  g.fillStyle = "#1d2733";
  for (const c of centres) g.fillRect(c.x - 2, c.y - 2, 4, 4);
  g.font = "13px system-ui, sans-serif";
  const labels = centres
    .filter((c) => c.x > -50 && c.y > -20 && c.x < mv.w + 50 && c.y < mv.h + 20)
    .sort((a, b) => (b.t.pop || 0) - (a.t.pop || 0))
    .map((c) => {
      const text = lang === "en" ? c.t.en : c.t.zh;
      return { code: c.t.code, text, x: c.x, y: c.y, w: g.measureText(text).width, h: 14 };
    });
  const dots = centres.map((c) => ({ x: c.x - 2, y: c.y - 2, w: 4, h: 4 }));
  mv.labels = placeLabels(labels, dots);
  g.fillStyle = "#1d2733";
  g.textBaseline = "top";
  for (const l of mv.labels) {
    g.fillStyle = "rgba(255, 255, 255, 0.7)";
    g.fillRect(l.box.x - 1, l.box.y, l.box.w + 2, l.box.h);
    g.fillStyle = "#1d2733";
    g.fillText(l.text, l.box.x, l.box.y + 1);
  }
  g.textBaseline = "alphabetic";
}

/**
 * drawLayers draws the depots, units and incidents of mv's model on g, and
 * keeps on mv what a click needs: mv.clusters (screen positions of incident
 * clusters) and mv.unitLabels.
 */
export function drawLayers(g, mv) {
  const model = mv.model;
  mv.clusters = [];
  if (!model) return;
  // depots: triangles
  for (const d of model.depots.values()) {
    if (!d.lat && !d.lng) continue;
    const [x, y] = mv.screen(d.lat, d.lng);
    g.beginPath();
    g.moveTo(x, y - 7);
    g.lineTo(x + 6, y + 5);
    g.lineTo(x - 6, y + 5);
    g.closePath();
    g.fillStyle = "#6b4f1d";
    g.fill();
  }
  // units: squares coloured by status, labelled when zoomed in
  const labelUnits = mv.zoom >= UNIT_LABEL_ZOOM;
  g.font = "11px system-ui, sans-serif";
  const unitLabels = [];
  for (const u of model.units.values()) {
    if (!u.lat && !u.lng) continue;
    const [x, y] = mv.screen(u.lat, u.lng);
    if (x < -10 || y < -10 || x > mv.w + 10 || y > mv.h + 10) continue;
    g.fillStyle = STATUS_COLOUR[u.status] || "#444";
    g.fillRect(x - 3, y - 3, 6, 6);
    if (labelUnits) {
      const text = `${u.id} · ${statusLabel(u.status)}`;
      unitLabels.push({ id: u.id, status: u.status, text, x, y, w: g.measureText(text).width, h: 12 });
    }
  }
  mv.unitLabels = labelUnits ? placeLabels(unitLabels, mv.labels.map((l) => l.box)) : [];
  for (const l of mv.unitLabels) {
    g.fillStyle = "rgba(255, 255, 255, 0.75)";
    g.fillRect(l.box.x - 1, l.box.y, l.box.w + 2, l.box.h);
    g.fillStyle = STATUS_COLOUR[l.status] || "#222";
    g.fillText(l.text, l.box.x, l.box.y + 10);
  }
  // incidents: clustered discs coloured by priority
  const pts = [];
  for (const rec of model.incidents.values()) {
    if ((!rec.lat && !rec.lng) || rec.state === "linked") continue;
    const [x, y] = mv.screen(rec.lat, rec.lng);
    if (x < -20 || y < -20 || x > mv.w + 20 || y > mv.h + 20) continue;
    pts.push({ x, y, prio: rec.priority >= 1 && rec.priority <= 4 ? rec.priority : 4, rec });
  }
  // the selected incident is never hidden in a cluster
  const sel = pts.filter((p) => p.rec.id === mv.selected);
  mv.clusters = clusterPoints(
    pts.filter((p) => p.rec.id !== mv.selected),
    mv.zoom >= 15 ? 0 : CLUSTER_PX,
  );
  for (const p of sel) mv.clusters.push({ x: p.x, y: p.y, prio: p.prio, items: [p] });
  g.font = "bold 11px system-ui, sans-serif";
  for (const c of mv.clusters) {
    const one = c.items.length === 1;
    const selected = one && c.items[0].rec.id === mv.selected;
    const r = one ? (selected ? 12 : 9) : Math.min(20, 11 + Math.log2(c.items.length) * 2);
    g.beginPath();
    g.arc(c.x, c.y, r, 0, 2 * Math.PI);
    g.fillStyle = PRIO_COLOUR[c.prio];
    g.fill();
    g.lineWidth = selected ? 3 : one ? 1.5 : 2.5;
    g.strokeStyle = selected ? "#000" : "#fff";
    g.stroke();
    if (one && c.items[0].rec.located?.approximate) {
      g.setLineDash([3, 3]);
      g.beginPath();
      g.arc(c.x, c.y, r + 5, 0, 2 * Math.PI);
      g.strokeStyle = "#000";
      g.lineWidth = 1.5;
      g.stroke();
      g.setLineDash([]);
    }
    g.lineWidth = 1;
    g.fillStyle = "#fff";
    const text = one ? "P" + c.prio : String(c.items.length);
    g.fillText(text, c.x - g.measureText(text).width / 2, c.y + 4);
  }
}

/**
 * hitCluster returns the cluster of mv under the canvas point (mx, my), or null.
 */
export function hitCluster(mv, mx, my) {
  let best = null;
  let bd = Infinity;
  for (const c of mv.clusters || []) {
    const r = c.items.length === 1 ? 12 : 20;
    const d = (c.x - mx) ** 2 + (c.y - my) ** 2;
    if (d < r * r && d < bd) {
      bd = d;
      best = c;
    }
  }
  return best;
}
