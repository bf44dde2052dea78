// locate.js: locating a call that came without a usable position, in
// seconds: a click on the map, or a town, station, depot or named place of
// the scenario's gazetteer (GET /api/places), or typed coordinates. The
// engine marks a position from the map or a place approximate (the record's
// "located") and then decides the incident. searchPlaces is tested in the
// browser (TestBusyModel).

import { h } from "./dom.js";
import { t, getLang } from "./i18n.js";
import { tryJSON } from "./api.js";
import { townName } from "./towns.js";

const W = {
  title: ["无位置：请定位", "No location: place it"],
  by_map: ["在地图上点选", "Click on the map"],
  map_hint: ["请在地图上点击警情所在位置（Esc 取消）", "Click on the map where the incident is (Esc cancels)"],
  place: ["地点（镇区、驻点、仓库、地标）", "Place (town, station, depot, landmark)"],
  no_place: ["没有匹配的地点", "No place matches"],
  typed: ["或输入坐标", "or type coordinates"],
  approx: ["大致位置", "approximate position"],
  exact: ["调度员输入的坐标", "coordinates typed by a dispatcher"],
  src_place: ["取自地点 {name}", "from the place {name}"],
  src_map: ["在地图上点选", "clicked on the map"],
  by: ["由 {who}", "by {who}"],
  located: ["定位", "Located"],
  k_town: ["镇区", "town"],
  k_station: ["驻点", "station"],
  k_depot: ["仓库", "depot"],
  k_bridge: ["桥梁", "bridge"],
  k_rail: ["车站", "railway station"],
  k_hospital: ["医院", "hospital"],
  k_landmark: ["地标", "landmark"],
  k_port: ["码头", "port"],
  k_park: ["公园", "park"],
};

/** lw returns the locate panel's label for key in the current language. */
function lw(key, vars) {
  const e = W[key];
  let s = e ? e[getLang() === "en" ? 1 : 0] : key;
  if (vars) for (const [k, v] of Object.entries(vars)) s = s.split("{" + k + "}").join(String(v));
  return s;
}

/** kindLabel names a gazetteer kind in the current language. */
export function kindLabel(kind) {
  return W["k_" + kind] ? lw("k_" + kind) : kind;
}

/** placeName is an entry's name in lang. */
export function placeName(p, lang) {
  return (lang === "en" ? p.name_en : p.name_zh) || p.name_en || p.name_zh || p.ref;
}

let places = null; // the gazetteer once loaded: [{ref, kind, name_zh, name_en, town, location}]
let loading = null;

/** loadPlaces fetches the gazetteer once (GET /api/places); [] when refused. */
export function loadPlaces(query) {
  if (!loading) {
    loading = tryJSON("/api/places" + (query || ""), []).then((list) => {
      places = Array.isArray(list) ? list : [];
      return places;
    });
  }
  return loading;
}

/** usePlaces sets the gazetteer (tests). */
export function usePlaces(list) {
  places = list;
  loading = Promise.resolve(list);
}

// rank of the kinds when several entries match equally: named places first
const KIND_RANK = { bridge: 0, rail: 0, hospital: 0, landmark: 0, port: 0, park: 0, town: 1, depot: 2, station: 3 };

/**
 * searchPlaces returns up to limit entries of list whose name (Chinese or
 * English), ref or town matches q (case-insensitive, every word of q must
 * match): names that start with q first, then named places before towns,
 * depots and stations.
 */
export function searchPlaces(list, q, limit) {
  const words = String(q || "").trim().toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return [];
  const out = [];
  for (const p of list || []) {
    const hay = [p.name_zh, p.name_en, p.ref, townName(p.town, "zh"), townName(p.town, "en")].join(" ").toLowerCase();
    if (!words.every((w) => hay.includes(w))) continue;
    const starts = String(p.name_zh || "").toLowerCase().startsWith(words[0]) || String(p.name_en || "").toLowerCase().startsWith(words[0]) ? 0 : 1;
    out.push({ p, score: starts * 10 + (KIND_RANK[p.kind] ?? 0) });
  }
  out.sort((a, b) => a.score - b.score || String(a.p.name_en).localeCompare(String(b.p.name_en)));
  return out.slice(0, limit || 8).map((x) => x.p);
}

/**
 * locatedFact returns the detail's facts line for a located incident
 * ([dt, dd]) or null.
 */
export function locatedFact(rec) {
  const l = rec.located;
  if (!l) return null;
  return [h("dt", {}, lw("located")), h("dd", { class: "located" + (l.approximate ? " approx" : ""), "data-source": l.source }, locatedText(l))];
}

/**
 * locatedText says how an incident was located (a record's or a history
 * entry's "located"): "approximate position · from the place Qijiang
 * Bridge · by desk-1".
 */
export function locatedText(l) {
  const lang = getLang();
  let src = "";
  if (l.source === "place") {
    const p = (places || []).find((x) => x.ref === l.place);
    src = lw("src_place", { name: p ? placeName(p, lang) : l.place });
  } else if (l.source === "map") src = lw("src_map");
  return [l.approximate ? lw("approx") : lw("exact"), src, l.by ? lw("by", { who: l.by }) : ""].filter(Boolean).join(" · ");
}

/**
 * locatePanel is the detail's panel for a manual incident without a
 * position: the map button, the place search and the typed coordinates.
 * view is the dispatcher's view (send, showTab, map).
 */
export function locatePanel(view, rec) {
  const list = h("ul", { id: "locate-places", class: "place-list", role: "listbox", "aria-label": lw("place") });
  const pick = (p) => view.send({ kind: "locate", incident: rec.id, source: "place", place: p.ref });
  const fill = () => {
    const lang = getLang();
    const found = searchPlaces(places || [], input.value, 8);
    list.replaceChildren(
      ...(input.value.trim() && found.length === 0 ? [h("li", { class: "hint" }, lw("no_place"))] : []),
      ...found.map((p) =>
        h(
          "li",
          {},
          h(
            "button",
            { type: "button", class: "btn-place", "data-ref": p.ref, onclick: () => pick(p) },
            placeName(p, lang),
            h("span", { class: "sub" }, " · " + kindLabel(p.kind) + (p.town ? " · " + townName(p.town, lang) : "")),
          ),
        ),
      ),
    );
  };
  const input = h("input", {
    type: "search",
    id: "locate-place",
    autocomplete: "off",
    placeholder: lw("place"),
    "aria-label": lw("place"),
    oninput: fill,
    onkeydown: (e) => {
      if (e.key === "Enter") {
        e.preventDefault();
        const first = searchPlaces(places || [], input.value, 1)[0];
        if (first) pick(first);
      }
    },
  });
  loadPlaces(view.query || "").then(fill);
  const hint = h("p", { id: "locate-map-hint", class: "hint", hidden: !view.map.picking }, lw("map_hint"));
  const mapBtn = h(
    "button",
    {
      type: "button",
      id: "locate-map",
      class: "primary",
      onclick: () => {
        view.showTab("map");
        hint.hidden = false;
        view.map.pickOnce((lat, lng) => view.send({ kind: "locate", incident: rec.id, source: "map", lat: round6(lat), lng: round6(lng) }));
      },
    },
    lw("by_map"),
  );
  const lat = h("input", { type: "number", id: "locate-lat", step: "any", min: "-90", max: "90", required: true, "aria-label": t("lat") });
  const lng = h("input", { type: "number", id: "locate-lng", step: "any", min: "-180", max: "180", required: true, "aria-label": t("lng") });
  return h(
    "div",
    { class: "panel needs-panel locate-panel", id: "locate-panel" },
    h("h3", {}, lw("title")),
    h("div", { class: "inline" }, mapBtn, h("label", { class: "grow" }, h("span", { class: "sr" }, lw("place") + " "), input)),
    hint,
    list,
    h(
      "form",
      {
        id: "locate-form",
        class: "inline",
        onsubmit: (e) => {
          e.preventDefault();
          const a = Number(lat.value);
          const b = Number(lng.value);
          if (lat.value !== "" && lng.value !== "" && Number.isFinite(a) && Number.isFinite(b)) view.send({ kind: "locate", incident: rec.id, source: "coords", lat: a, lng: b });
        },
      },
      h("span", { class: "hint" }, lw("typed") + " "),
      h("label", {}, t("lat") + " ", lat),
      " ",
      h("label", {}, t("lng") + " ", lng),
      " ",
      h("button", { type: "submit" }, t("locate")),
    ),
  );
}

function round6(x) {
  return Math.round(x * 1e6) / 1e6;
}
