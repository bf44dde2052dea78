// map.js: a canvas map that needs no internet: the 24 town centres with
// names, open incidents coloured by priority, units coloured by status, and
// depots. Pan with the mouse (drag) or the arrow keys, zoom with the wheel or
// + / -, 0 resets. An optional tile layer (GET /api/config tile_url, a
// "{z}/{x}/{y}" template on the agency's own tile server) is drawn beneath.

import { TOWNS } from "./towns.js";
import { getLang } from "./i18n.js";

const PRIO_COLOUR = { 1: "#d00000", 2: "#e85d04", 3: "#d4a000", 4: "#2a6fdb" };
const STATUS_COLOUR = {
  available: "#1b7f3b",
  dispatched: "#b5179e",
  en_route: "#7209b7",
  on_scene: "#3a0ca3",
  returning: "#4a7f9b",
  out_of_service: "#777777",
};

const DEG = Math.PI / 180;

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
    this.model = null;
    this.selected = "";
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

  /** screen returns the canvas position of lat/lng. */
  screen(lat, lng) {
    const [cx, cy] = project(this.center.lat, this.center.lng, this.zoom);
    const [x, y] = project(lat, lng, this.zoom);
    return [x - cx + this.w / 2, y - cy + this.h / 2];
  }

  click(e) {
    if (!this.model || !this.opts.onSelect) return;
    const r = this.canvas.getBoundingClientRect();
    const mx = e.clientX - r.left;
    const my = e.clientY - r.top;
    if (mx < 0 || my < 0 || mx > r.width || my > r.height) return;
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
    this.model = model;
    this.selected = selected || "";
    this.draw();
  }

  draw() {
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
    g.fillStyle = "#eef2f5";
    g.fillRect(0, 0, w, hgt);
    if (this.tileURL) this.drawTiles(g);
    const lang = getLang();
    // towns
    g.font = "13px system-ui, sans-serif";
    for (const t of TOWNS) {
      const [x, y] = this.screen(t.lat, t.lng);
      const r = Math.max(6, Math.sqrt(t.pop) / 30) * 2 ** (this.zoom - 10.6);
      g.beginPath();
      g.arc(x, y, r, 0, 2 * Math.PI);
      g.fillStyle = "rgba(60, 80, 110, 0.08)";
      g.fill();
      g.strokeStyle = "rgba(60, 80, 110, 0.35)";
      g.stroke();
      g.fillStyle = "#1d2733";
      g.fillRect(x - 2, y - 2, 4, 4);
      g.fillText(lang === "en" ? t.en : t.zh, x + 5, y - 5);
    }
    if (!this.model) return;
    // depots: triangles
    for (const d of this.model.depots.values()) {
      if (!d.lat && !d.lng) continue;
      const [x, y] = this.screen(d.lat, d.lng);
      g.beginPath();
      g.moveTo(x, y - 7);
      g.lineTo(x + 6, y + 5);
      g.lineTo(x - 6, y + 5);
      g.closePath();
      g.fillStyle = "#6b4f1d";
      g.fill();
    }
    // units: small squares coloured by status
    for (const u of this.model.units.values()) {
      if (!u.lat && !u.lng) continue;
      const [x, y] = this.screen(u.lat, u.lng);
      g.fillStyle = STATUS_COLOUR[u.status] || "#444";
      g.fillRect(x - 3, y - 3, 6, 6);
    }
    // incidents: dots coloured by priority, with the priority as text
    g.font = "bold 11px system-ui, sans-serif";
    for (const rec of this.model.incidents.values()) {
      if ((!rec.lat && !rec.lng) || rec.state === "linked") continue;
      const [x, y] = this.screen(rec.lat, rec.lng);
      const p = rec.priority >= 1 && rec.priority <= 4 ? rec.priority : 4;
      g.beginPath();
      g.arc(x, y, rec.id === this.selected ? 12 : 9, 0, 2 * Math.PI);
      g.fillStyle = PRIO_COLOUR[p];
      g.fill();
      g.lineWidth = rec.id === this.selected ? 3 : 1.5;
      g.strokeStyle = rec.id === this.selected ? "#000" : "#fff";
      g.stroke();
      g.lineWidth = 1;
      g.fillStyle = "#fff";
      g.fillText("P" + p, x - 7, y + 4);
    }
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
