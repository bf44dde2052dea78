// i18n.js: Chinese and English labels. Chinese is the default; the choice
// is remembered in localStorage under "zs110.lang".

const L = {
  title: ["中山110应急调度", "Zhongshan 110 Dispatch"],
  dispatcher: ["调度员", "Dispatcher"],
  team_leader: ["队长", "Team leader"],
  drill: ["演练", "Drill"],
  signin: ["登录", "Sign in"],
  signin_help: ["请输入控制台令牌（启动时打印的链接可直接登录）。", "Enter your console token (the link printed at start-up signs in directly)."],
  token: ["令牌", "Token"],
  connecting: ["连接中…", "connecting…"],
  connected: ["已连接", "connected"],
  reconnecting: ["重新连接中", "reconnecting"],
  resumed: ["已恢复，序号", "resumed at seq"],
  seq: ["序号", "seq"],
  queue: ["警情队列", "Incident queue"],
  detail: ["警情详情", "Incident detail"],
  map: ["地图", "Map"],
  units: ["单位", "Units"],
  log: ["动态", "Activity"],
  help: ["帮助", "Help"],
  lang: ["English", "中文"],
  no_incidents: ["暂无警情", "No open incidents"],
  select_incident: ["请选择一条警情（j/k 移动，回车打开）", "Select an incident (j/k to move, Enter to open)"],
  priority: ["优先级", "Priority"],
  type: ["类型", "Type"],
  town: ["镇区", "Town"],
  address: ["地址", "Address"],
  description: ["描述", "Description"],
  reported: ["报警时间", "Reported"],
  age: ["已等待", "Waiting"],
  state: ["状态", "State"],
  caller: ["报警人", "Caller"],
  casualties: ["伤亡", "Casualties"],
  linked_calls: ["重复来电", "Linked calls"],
  recommended: ["推荐单位", "Recommended units"],
  assigned: ["已派", "assigned"],
  team: ["队伍", "Team"],
  unit: ["单位", "Unit"],
  capability: ["能力", "Capability"],
  eta: ["预计到达", "ETA"],
  distance: ["距离", "Distance"],
  reasons: ["理由", "Reasons"],
  substitute: ["替代", "substitute"],
  reserve: ["预备队", "reserve"],
  first_responder: ["先期到场", "first responder"],
  materials: ["物资", "Materials"],
  depot: ["仓库", "Depot"],
  item: ["物品", "Item"],
  qty: ["数量", "Qty"],
  shortfalls: ["缺口", "Shortfalls"],
  confirm: ["确认派警", "Confirm"],
  swap: ["更换", "Swap"],
  add_unit: ["增派单位", "Add unit"],
  cancel: ["结案 / 撤销", "Close"],
  close_reason: ["结案或撤销警情，原因", "Close the incident, reason"],
  closed_note: ["此警情已结束，不在队列中", "This incident has ended and left the queue"],
  escalate: ["升级（调市指挥队）", "Escalate"],
  escalate_title: ["调派最近的可用市应急指挥队单位", "Call the nearest available unit of the city command team"],
  decline_unit: ["退回", "Decline"],
  decline_reason: ["退回单位，原因", "Decline the unit, reason"],
  classify: ["定性", "Classify"],
  locate: ["定位", "Locate"],
  reason: ["原因", "Reason"],
  lat: ["纬度", "Latitude"],
  lng: ["经度", "Longitude"],
  send: ["提交", "Submit"],
  close: ["关闭", "Close"],
  use: ["选用", "Use"],
  candidates: ["候选单位", "Next candidates"],
  no_candidates: ["没有其他候选单位", "No other candidates"],
  unit_id: ["单位编号", "Unit id"],
  needs_action: ["需处理", "Needs action"],
  why_manual: ["无位置，需人工定位", "no location: locate manually"],
  why_unknown_type: ["类型未知，需定性", "unknown type: classify"],
  why_confirm: ["需确认派警", "confirm to dispatch"],
  why_shortfall: ["资源不足", "shortfall"],
  why_escalated: ["超时未接单", "not accepted in time"],
  moveup: ["前置备勤建议", "Move-up"],
  moveup_msg: ["建议单位 {unit} 移至 {station} 待命，以补足覆盖", "Move unit {unit} to wait at {station}: it restores coverage"],
  relocate: ["派往", "Relocate"],
  history: ["处置记录", "History"],
  loading: ["加载中…", "loading…"],
  invalid_reason: ["拒收原因", "Refused because"],
  raw_record: ["原始记录", "Raw record"],
  why_invalid: ["报警记录有误，需人工核实", "invalid record: check it"],
  escalation: ["升级告警", "Escalation"],
  escalated_msg: ["单位 {unit} 未在规定时间内接受警情 {incident} 的指派（已等 {s} 秒）", "Unit {unit} has not accepted incident {incident} (waited {s} s)"],
  ack: ["知道了", "Acknowledge"],
  p1_alert: ["一级警情", "P1 incident"],
  all_towns: ["全部镇区", "All towns"],
  status: ["状态", "Status"],
  incident: ["警情", "Incident"],
  since: ["起始", "Since"],
  my_assignments: ["本队指派", "My team's assignments"],
  no_assignments: ["暂无指派", "No assignments"],
  accept: ["接受", "Accept"],
  decline: ["拒绝", "Decline"],
  en_route: ["出发", "En route"],
  on_scene: ["到场", "On scene"],
  clear: ["完成", "Clear"],
  returning: ["返回中", "Returning"],
  available: ["可用", "Available"],
  my_units: ["本队其他单位", "My team's other units"],
  no_busy_units: ["没有其他忙碌单位", "No other unit is busy"],
  n_available: ["可用 {n} 个", "{n} available"],
  server_said: ["服务器拒绝", "Server refused"],
  accepted: ["已接受", "accepted"],
  action_failed: ["操作失败", "Action failed"],
  action_sent: ["已提交", "Sent"],
  sound_on: ["声音提醒已开启", "Sound alerts on"],
  sound_off: ["点击任意处开启声音提醒", "Click anywhere to enable sound alerts"],
  shortcuts: ["快捷键", "Keyboard shortcuts"],
  k_jk: ["j / k：下一条 / 上一条警情", "j / k: next / previous incident"],
  k_jk_leader: ["j / k：下一条 / 上一条指派", "j / k: next / previous assignment"],
  k_leader: ["a 接受，d 拒绝，e 出发，o 到场，r 返回，v 可用（所选指派）", "a accept, d decline, e en route, o on scene, r returning, v available (the selected assignment)"],
  k_enter: ["回车：打开所选警情", "Enter: open the selected incident"],
  k_c: ["c：确认所选警情的推荐", "c: confirm the selected recommendation"],
  k_s: ["s：更换第一个推荐单位", "s: swap the first recommended unit"],
  k_a: ["a：增派单位", "a: add a unit"],
  k_x: ["x：结案 / 撤销警情（需填写原因）", "x: close the incident (asks a reason)"],
  k_e: ["e：升级，调派市应急指挥队", "e: escalate to the city command team"],
  k_m: ["m / u / g：地图 / 单位 / 动态", "m / u / g: map / units / activity"],
  k_search: ["/：搜索警情（编号或地址）", "/: search the queue (id or address)"],
  k_l: ["l：切换语言", "l: switch language"],
  k_help: ["?：显示或隐藏本帮助", "?: show or hide this help"],
  k_map: ["地图：方向键平移，+ / - 缩放，0 复位；鼠标拖动与滚轮", "Map: arrow keys pan, + / - zoom, 0 reset; mouse drag and wheel"],
  k_esc: ["Esc：关闭对话框", "Esc: close a dialog"],
  signed_in_as: ["当前用户", "Signed in as"],
  legend: ["图例", "Legend"],
  legend_town: ["镇区（范围与中心）", "town (area, centre)"],
  legend_unit: ["单位", "unit"],
  legend_depot: ["物资仓库", "depot"],
  st_available: ["可用", "available"],
  st_dispatched: ["已派", "dispatched"],
  st_en_route: ["在途", "en route"],
  st_on_scene: ["到场", "on scene"],
  st_returning: ["返回", "returning"],
  st_relocating: ["移防中", "relocating"],
  st_out_of_service: ["停用", "out of service"],
  s_awaiting_confirmation: ["待确认", "awaiting confirmation"],
  s_dispatched: ["已派警", "dispatched"],
  s_manual: ["人工处理", "manual"],
  s_linked: ["重复来电", "linked"],
  s_closed: ["已结案", "closed"],
  s_cancelled: ["已撤销", "cancelled"],
  ev_incident_dispatched: ["已派警", "dispatched"],
  ev_incident_recommended: ["新推荐", "recommended"],
  ev_incident_manual: ["需人工处理", "manual"],
  ev_incident_linked: ["重复来电已关联", "call linked"],
  ev_incident_updated: ["已更新", "updated"],
  ev_incident_closed: ["已结案", "closed"],
  ev_incident_cancelled: ["已撤销", "cancelled"],
  ev_assignment_new: ["新指派", "assignment"],
  ev_assignment_cancelled: ["指派取消", "assignment cancelled"],
  ev_assignment_escalated: ["升级告警", "escalated"],
  ev_unit_status: ["单位状态", "unit status"],
  ev_unit_moveup: ["前置备勤", "move-up"],
  sign_out_hint: ["令牌保存在 Cookie 中", "the token is kept in a cookie"],
};

let lang = "zh";
try {
  const saved = localStorage.getItem("zs110.lang");
  if (saved === "en" || saved === "zh") lang = saved;
} catch {
  // storage disabled: stay with the default
}

/** getLang returns the current language, "zh" or "en". */
export function getLang() {
  return lang;
}

/** setLang switches the language and remembers it. */
export function setLang(l) {
  lang = l === "en" ? "en" : "zh";
  try {
    localStorage.setItem("zs110.lang", lang);
  } catch {
    // not remembered
  }
  document.documentElement.lang = lang === "en" ? "en" : "zh-CN";
}

/** t returns the label for key in the current language, with {name} placeholders filled from vars. */
export function t(key, vars) {
  const e = L[key];
  let s = e ? e[lang === "en" ? 1 : 0] : key;
  if (vars) for (const [k, v] of Object.entries(vars)) s = s.split("{" + k + "}").join(String(v));
  return s;
}

/** allLabels returns every label in the current language (the tests tell names from codes with them). */
export function allLabels() {
  return Object.values(L).map((e) => e[lang === "en" ? 1 : 0]);
}

/** statusLabel returns the label of a unit status. */
export function statusLabel(s) {
  return L["st_" + s] ? t("st_" + s) : s || "";
}

/** stateLabel returns the label of an incident state. */
export function stateLabel(s) {
  return L["s_" + s] ? t("s_" + s) : s || "";
}

/** eventLabel returns the label of an event kind. */
export function eventLabel(k) {
  const key = "ev_" + String(k).replace(/\./g, "_");
  return L[key] ? t(key) : k;
}
