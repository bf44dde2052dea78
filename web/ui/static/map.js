// map.js: a canvas map that needs no internet: the towns as areas (each
// town is the part of the city nearer to its centre than to any other, the
// rule the engine uses to place incidents) with their centres and names,
// open incidents coloured by priority, units coloured by status, and
// depots. Pan with the mouse (drag) or the arrow keys, zoom with the wheel or
// + / -, 0 resets. An optional tile layer (GET /api/config tile_url, a
// "{z}/{x}/{y}" template on the agency's own tile server) is drawn beneath.

import { TOWNS, TOWN_RADIUS_M } from "./towns.js";
import { getLang } from "./i18n.js";
import { drawLayers, drawTownNames, hitCluster } from "./maplayers.js";

const DEG = Math.PI / 180;
const TOWN_FILL = ["rgba(60, 110, 170, 0.10)", "rgba(70, 150, 110, 0.10)", "rgba(170, 130, 60, 0.10)", "rgba(140, 90, 160, 0.10)"];

/**
 * townCells returns each town's area as a polygon of {lat, lng}: the points
 * within radiusM of its centre that are nearer to it than to any other
 * centre (Voronoi cells clipped to a circle), computed on a local flat
 * projection, which is exact enough across one city.
 */
export function townCells(towns, radiusM) {
  if (towns.length === 0) return [];
  const lat0 = towns.reduce((a, x) => a + x.lat, 0) / towns.length;
  const kx = 111320 * Math.cos(lat0 * DEG);
  const ky = 110540;
  const pts = towns.map((x) => [x.lng * kx, x.lat * ky]);
  return towns.map((town, i) => {
    const [cx, cy] = pts[i];
    let poly = [];
    for (let k = 0; k < 64; k++) {
      const a = (2 * Math.PI * k) / 64;
      poly.push([cx + radiusM * Math.cos(a), cy + radiusM * Math.sin(a)]);
    }
    for (let j = 0; j < pts.length && poly.length > 0; j++) {
      if (j === i) continue;
      // keep p with |p-ci|^2 <= |p-cj|^2, i.e. p·(cj-ci) <= (|cj|^2-|ci|^2)/2
      const nx = pts[j][0] - cx;
      const ny = pts[j][1] - cy;
      const c = (pts[j][0] ** 2 + pts[j][1] ** 2 - cx * cx - cy * cy) / 2;
      poly = clip(poly, nx, ny, c);
    }
    return { code: town.code, polygon: poly.map(([x, y]) => ({ lat: y / ky, lng: x / kx })) };
  });
}

// clip keeps the part of a convex polygon where nx*x + ny*y <= c (Sutherland-Hodgman).
function clip(poly, nx, ny, c) {
  const out = [];
  const inside = (p) => nx * p[0] + ny * p[1] <= c;
  for (let k = 0; k < poly.length; k++) {
    const p = poly[k];
    const q = poly[(k + 1) % poly.length];
    const pin = inside(p);
    const qin = inside(q);
    if (pin) out.push(p);
    if (pin !== qin) {
      const dp = nx * p[0] + ny * p[1] - c;
      const dq = nx * q[0] + ny * q[1] - c;
      const t = dp / (dp - dq);
      out.push([p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1])]);
    }
  }
  return out;
}

/** inPolygon reports whether lat/lng is inside a polygon of {lat, lng} (ray casting). */
export function inPolygon(lat, lng, poly) {
  let inside = false;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const a = poly[i];
    const b = poly[j];
    if (a.lat > lat !== b.lat > lat && lng < ((b.lng - a.lng) * (lat - a.lat)) / (b.lat - a.lat) + a.lng) inside = !inside;
  }
  return inside;
}

// Web Mercator in world pixels at zoom z (256 px tiles).
function project(lat, lng, z) {
  const s = 256 * 2 ** z;
  const x = ((lng + 180) / 360) * s;
  const sin = Math.sin(lat * DEG);
  const y = (0.5 - Math.log((1 + sin) / (1 - sin)) / (4 * Math.PI)) * s;
  return [x, y];
}

/** MapView draws onto a canvas; call update(model) whenever data changes. */
export class MapView {
  /**
   * @param {HTMLCanvasElement} canvas
   * @param {{tileURL?: string, onSelect?: (id: string) => void}} opts
   */
  constructor(canvas, opts) {
    this.canvas = canvas;
    this.opts = opts || {};
    this.tileURL = this.opts.tileURL || "";
    this.tiles = new Map();
    this.cells = townCells(TOWNS, TOWN_RADIUS_M);
    this.model = null;
    this.selected = "";
    this.picking = null; // pickOnce's callback while the map waits for a click
    this.clusters = [];
    this.labels = [];
    this.reset();
    this.bind();
  }

  /** reset centres the view on Zhongshan. */
  reset() {
    this.zoom = 10.6;
    this.center = { lat: 22.52, lng: 113.37 };
    this.draw();
  }

  bind() {
    const c = this.canvas;
    let drag = null;
    c.addEventListener("mousedown", (e) => {
      drag = { x: e.clientX, y: e.clientY, moved: false };
    });
    window.addEventListener("mouseup", (e) => {
      if (drag && !drag.moved) this.click(e);
      drag = null;
    });
    window.addEventListener("mousemove", (e) => {
      if (!drag) return;
      const dx = e.clientX - drag.x;
      const dy = e.clientY - drag.y;
      if (Math.abs(dx) + Math.abs(dy) > 2) drag.moved = true;
      drag.x = e.clientX;
      drag.y = e.clientY;
      this.panPixels(-dx, -dy);
    });
    c.addEventListener(
      "wheel",
      (e) => {
        e.preventDefault();
        this.zoomBy(e.deltaY < 0 ? 0.5 : -0.5);
      },
      { passive: false },
    );
    c.addEventListener("keydown", (e) => {
      const step = 60;
      const keys = {
        ArrowLeft: () => this.panPixels(-step, 0),
        ArrowRight: () => this.panPixels(step, 0),
        ArrowUp: () => this.panPixels(0, -step),
        ArrowDown: () => this.panPixels(0, step),
        "+": () => this.zoomBy(0.5),
        "=": () => this.zoomBy(0.5),
        "-": () => this.zoomBy(-0.5),
        0: () => this.reset(),
      };
      const f = keys[e.key];
      if (f) {
        e.preventDefault();
        e.stopPropagation();
        f();
      }
    });
    if (typeof ResizeObserver !== "undefined") new ResizeObserver(() => this.draw()).observe(c);
  }

  panPixels(dx, dy) {
    const [cx, cy] = project(this.center.lat, this.center.lng, this.zoom);
    this.center = this.unproject(cx + dx, cy + dy, this.zoom);
    this.draw();
  }

  zoomBy(d) {
    this.zoom = Math.max(8, Math.min(17, this.zoom + d));
    this.draw();
  }

  unproject(x, y, z) {
    const s = 256 * 2 ** z;
    const lng = (x / s) * 360 - 180;
    const n = Math.PI - (2 * Math.PI * y) / s;
    const lat = (180 / Math.PI) * Math.atan(Math.sinh(n));
    return { lat, lng };
  }

  /** townAt returns the code of the town whose area holds lat/lng, or "" outside the city. */
  townAt(lat, lng) {
    const c = this.cells.find((x) => inPolygon(lat, lng, x.polygon));
    return c ? c.code : "";
  }

  /** screen returns the canvas position of lat/lng. */
  screen(lat, lng) {
    const [cx, cy] = project(this.center.lat, this.center.lng, this.zoom);
    const [x, y] = project(lat, lng, this.zoom);
    return [x - cx + this.w / 2, y - cy + this.h / 2];
  }

  /**
   * pickOnce makes the next click on the map call cb(lat, lng) instead of
   * selecting (locating an incident); Escape on the page or pickOnce(null)
   * cancels.
   */
  pickOnce(cb) {
    this.picking = cb;
    this.canvas.classList.toggle("picking", !!cb);
    this.canvas.dataset.picking = cb ? "1" : "";
  }

  /** latLngAt returns the position under the canvas point (mx, my). */
  latLngAt(mx, my) {
    const [cx, cy] = project(this.center.lat, this.center.lng, this.zoom);
    return this.unproject(cx + mx - this.w / 2, cy + my - this.h / 2, this.zoom);
  }

  click(e) {
    const r = this.canvas.getBoundingClientRect();
    const mx = e.clientX - r.left;
    const my = e.clientY - r.top;
    if (mx < 0 || my < 0 || mx > r.width || my > r.height) return;
    if (this.picking) {
      const cb = this.picking;
      this.pickOnce(null);
      const p = this.latLngAt(mx, my);
      cb(p.lat, p.lng);
      return;
    }
    if (!this.model || !this.opts.onSelect) return;
    const c = hitCluster(this, mx, my);
    if (c && c.items.length > 1) {
      // a cluster: zoom in on it
      this.center = this.latLngAt(mx, my);
      this.zoomBy(2);
      return;
    }
    if (c) {
      this.opts.onSelect(c.items[0].rec.id);
      return;
    }
    let best = "";
    let bd = 144;
    for (const rec of this.model.incidents.values()) {
      if (!rec.lat && !rec.lng) continue;
      const [x, y] = this.screen(rec.lat, rec.lng);
      const d = (x - mx) ** 2 + (y - my) ** 2;
      if (d < bd) {
        bd = d;
        best = rec.id;
      }
    }
    if (best) this.opts.onSelect(best);
  }

  /** update redraws with the model's incidents, units and depots; selected is highlighted. */
  update(model, selected) {
    const changed = model !== this.model || (selected || "") !== this.selected;
    this.model = model;
    this.selected = selected || "";
    // A new selection is drawn at once; data changes at most every 400 ms
    // (a busy shift sends hundreds of events a second; drawing 1,000 units
    // takes tens of milliseconds).
    const wait = this.lastDraw ? this.lastDraw + 400 - performance.now() : 0;
    if (changed || wait <= 0) {
      clearTimeout(this.timer);
      this.timer = 0;
      this.draw();
    } else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = 0;
        this.draw();
      }, wait);
    }
  }

  draw() {
    this.lastDraw = performance.now();
    const c = this.canvas;
    const dpr = window.devicePixelRatio || 1;
    const w = c.clientWidth || 600;
    const hgt = c.clientHeight || 400;
    if (c.width !== Math.round(w * dpr) || c.height !== Math.round(hgt * dpr)) {
      c.width = Math.round(w * dpr);
      c.height = Math.round(hgt * dpr);
    }
    this.w = w;
    this.h = hgt;
    const g = c.getContext("2d");
    if (!g) return;
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    const lang = getLang();
    if (this.tileURL) {
      g.fillStyle = "#eef2f5";
      g.fillRect(0, 0, w, hgt);
      this.drawTiles(g);
      this.drawTowns(g, lang);
    } else {
      // the towns change only with the view: drawn once into a base layer
      const key = [c.width, c.height, dpr, this.zoom, this.center.lat, this.center.lng, lang].join("|");
      if (!this.base || this.baseKey !== key) {
        this.base = document.createElement("canvas");
        this.base.width = c.width;
        this.base.height = c.height;
        const bg = this.base.getContext("2d");
        bg.setTransform(dpr, 0, 0, dpr, 0, 0);
        bg.fillStyle = "#eef2f5";
        bg.fillRect(0, 0, w, hgt);
        this.drawTowns(bg, lang);
        this.baseKey = key;
      }
      g.setTransform(1, 0, 0, 1, 0, 0);
      g.drawImage(this.base, 0, 0);
      g.setTransform(dpr, 0, 0, dpr, 0, 0);
    }
    drawLayers(g, this);
  }

  /** drawTowns draws the town areas, centres and names. */
  drawTowns(g, lang) {
    this.cells.forEach((cell, i) => {
      if (cell.polygon.length < 3) return;
      g.beginPath();
      cell.polygon.forEach((p, k) => {
        const [x, y] = this.screen(p.lat, p.lng);
        if (k === 0) g.moveTo(x, y);
        else g.lineTo(x, y);
      });
      g.closePath();
      g.fillStyle = TOWN_FILL[i % TOWN_FILL.length];
      g.fill();
      g.strokeStyle = "rgba(40, 60, 90, 0.55)";
      g.lineWidth = 1;
      g.stroke();
    });
    drawTownNames(g, this, lang);
  }

  drawTiles(g) {
    const z = Math.round(this.zoom);
    const scale = 2 ** (this.zoom - z);
    const [cx, cy] = project(this.center.lat, this.center.lng, z);
    const x0 = Math.floor((cx - this.w / 2 / scale) / 256);
    const x1 = Math.floor((cx + this.w / 2 / scale) / 256);
    const y0 = Math.floor((cy - this.h / 2 / scale) / 256);
    const y1 = Math.floor((cy + this.h / 2 / scale) / 256);
    for (let tx = x0; tx <= x1; tx++) {
      for (let ty = y0; ty <= y1; ty++) {
        const url = this.tileURL.replace("{z}", z).replace("{x}", tx).replace("{y}", ty);
        let img = this.tiles.get(url);
        if (!img) {
          img = new Image();
          img.onload = () => this.draw();
          img.src = url;
          this.tiles.set(url, img);
        }
        if (img.complete && img.naturalWidth) {
          const sx = (tx * 256 - cx) * scale + this.w / 2;
          const sy = (ty * 256 - cy) * scale + this.h / 2;
          g.drawImage(img, sx, sy, 256 * scale, 256 * scale);
        }
      }
    }
  }
}
