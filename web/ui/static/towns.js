// towns.js: the scenario's names. TOWNS starts as the 24 towns and districts
// of Zhongshan (2013), centre coordinates and approximate populations, from
// data/zhongshan_towns.csv, embedded so that the map works with no network
// at all; useScenario replaces them (and adds the team names) from GET
// /api/config when the server runs another scenario.

/** @type {{code:string,zh:string,en:string,kind:string,lat:number,lng:number,pop:number}[]} */
export const TOWNS = [
  { code: "shiqi", zh: "石岐区", en: "Shiqi", kind: "urban district", lat: 22.5220, lng: 113.3790, pop: 180000 },
  { code: "dongqu", zh: "东区", en: "East District", kind: "urban district", lat: 22.5170, lng: 113.4000, pop: 140000 },
  { code: "xiqu", zh: "西区", en: "West District", kind: "urban district", lat: 22.5250, lng: 113.3450, pop: 130000 },
  { code: "nanqu", zh: "南区", en: "South District", kind: "urban district", lat: 22.4750, lng: 113.3750, pop: 80000 },
  { code: "wuguishan", zh: "五桂山", en: "Wuguishan", kind: "mountain district", lat: 22.4600, lng: 113.4400, pop: 25000 },
  { code: "torch", zh: "火炬开发区", en: "Torch Hi-tech Zone", kind: "development zone", lat: 22.5560, lng: 113.4680, pop: 180000 },
  { code: "huangpu", zh: "黄圃镇", en: "Huangpu", kind: "town", lat: 22.7150, lng: 113.3420, pop: 110000 },
  { code: "nantou", zh: "南头镇", en: "Nantou", kind: "town", lat: 22.7180, lng: 113.2950, pop: 70000 },
  { code: "dongfeng", zh: "东凤镇", en: "Dongfeng", kind: "town", lat: 22.6900, lng: 113.2630, pop: 170000 },
  { code: "fusha", zh: "阜沙镇", en: "Fusha", kind: "town", lat: 22.6600, lng: 113.3400, pop: 60000 },
  { code: "xiaolan", zh: "小榄镇", en: "Xiaolan", kind: "town", lat: 22.6600, lng: 113.2450, pop: 320000 },
  { code: "dongsheng", zh: "东升镇", en: "Dongsheng", kind: "town", lat: 22.6170, lng: 113.2900, pop: 120000 },
  { code: "guzhen", zh: "古镇镇", en: "Guzhen", kind: "town", lat: 22.6100, lng: 113.1900, pop: 190000 },
  { code: "henglan", zh: "横栏镇", en: "Henglan", kind: "town", lat: 22.5250, lng: 113.2650, pop: 130000 },
  { code: "sanjiao", zh: "三角镇", en: "Sanjiao", kind: "town", lat: 22.6800, lng: 113.4200, pop: 100000 },
  { code: "minzhong", zh: "民众镇", en: "Minzhong", kind: "town", lat: 22.6230, lng: 113.4860, pop: 70000 },
  { code: "nanlang", zh: "南朗镇", en: "Nanlang", kind: "town", lat: 22.4950, lng: 113.5400, pop: 100000 },
  { code: "gangkou", zh: "港口镇", en: "Gangkou", kind: "town", lat: 22.5900, lng: 113.3800, pop: 100000 },
  { code: "dachong", zh: "大涌镇", en: "Dachong", kind: "town", lat: 22.4750, lng: 113.2950, pop: 70000 },
  { code: "shaxi", zh: "沙溪镇", en: "Shaxi", kind: "town", lat: 22.5270, lng: 113.3270, pop: 150000 },
  { code: "sanxiang", zh: "三乡镇", en: "Sanxiang", kind: "town", lat: 22.3600, lng: 113.4350, pop: 170000 },
  { code: "banfu", zh: "板芙镇", en: "Banfu", kind: "town", lat: 22.4150, lng: 113.3200, pop: 60000 },
  { code: "shenwan", zh: "神湾镇", en: "Shenwan", kind: "town", lat: 22.3100, lng: 113.3600, pop: 37000 },
  { code: "tanzhou", zh: "坦洲镇", en: "Tanzhou", kind: "town", lat: 22.2650, lng: 113.4600, pop: 150000 },
];

/** townName returns the label of a town code in the language lang ("zh" or "en"). */
export function townName(code, lang) {
  const t = TOWNS.find((x) => x.code === code);
  if (!t) return code || "";
  return lang === "en" ? t.en : t.zh;
}

/** @type {Map<string, {id:string,zh:string,en:string,kind:string}>} teams by id (from /api/config) */
export const TEAMS = new Map();

/** TOWN_RADIUS_M: a point farther than this from every town centre is outside the city. */
export let TOWN_RADIUS_M = 12000;

/**
 * useScenario takes the towns, teams and town radius of GET /api/config;
 * an empty town list keeps the embedded towns.
 */
export function useScenario(cfg) {
  const towns = (cfg && cfg.towns) || [];
  if (towns.length > 0) {
    TOWNS.splice(0, TOWNS.length, ...towns.map((x) => ({ code: x.code, zh: x.name_zh || x.code, en: x.name_en || x.code, kind: x.kind || "", lat: Number(x.lat), lng: Number(x.lng), pop: Number(x.population || 0) })));
  }
  for (const tm of (cfg && cfg.teams) || []) TEAMS.set(tm.id, { id: tm.id, zh: tm.name_zh || tm.id, en: tm.name_en || tm.id, kind: tm.kind || "" });
  if (cfg && Number(cfg.town_radius_m) > 0) TOWN_RADIUS_M = Number(cfg.town_radius_m);
}

/** teamName returns the label of a team id in lang, or the id. */
export function teamName(id, lang) {
  const tm = TEAMS.get(id);
  if (!tm) return id || "";
  return lang === "en" ? tm.en : tm.zh;
}
