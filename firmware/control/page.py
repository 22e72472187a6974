"""The preview page itself: one self-contained HTML document (no external scripts, fonts or styles).

Its Content-Security-Policy allows exactly its own inline script and style (by their SHA-256), images and
requests from its own origin, and no framing by any other page (``frame-ancestors 'none'``): no inline event
handlers or style attributes, so the script wires every control itself.
"""

import base64
import hashlib

STYLE = """
  body { margin: 0; background: #111; color: #ddd; font: 14px/1.4 system-ui, sans-serif; }
  header { padding: 6px 12px; background: #000; font-family: ui-monospace, monospace; font-size: 13px; }
  header.error, .error { color: #f66; }
  main { display: flex; flex-wrap: wrap; gap: 16px; padding: 12px; }
  section, aside { display: flex; flex-direction: column; gap: 6px; }
  #view { max-width: 100%; width: 640px; background: #222; min-height: 240px; }
  .meters { display: flex; gap: 14px; align-items: flex-end; }
  aside { min-width: 300px; max-width: 340px; }
  fieldset { border: 1px solid #333; padding: 6px 10px; }
  legend { color: #999; }
  .row { display: flex; justify-content: space-between; align-items: center; margin: 3px 0; }
  select { background: #222; color: #ddd; border: 1px solid #444; min-width: 150px; }
  button { font-size: 18px; padding: 12px 24px; border-radius: 24px; border: 2px solid #c33; background: #400;
           color: #fff; cursor: pointer; }
  button:disabled { opacity: 0.5; }
  label { margin-right: 14px; }
  #hist { background: #000; width: 256px; height: 100px; }
  #thumb { max-width: 320px; max-height: 240px; background: #222; }
  #thumb.none { display: none; }
  a { color: #8cf; margin-right: 10px; }
  .num { font-family: ui-monospace, monospace; }
"""

SCRIPT = r"""
"use strict";
const $ = (id) => document.getElementById(id);
const SPEEDS = [8000, 4000, 2000, 1000, 500, 250, 125, 60, 30, 15, 8, 4, 2];  // 1/N s
const ISOS = [100, 200, 400, 800, 1600, 3200, 6400];

function shutter(us) {
  if (!us) return "?";
  const s = us / 1e6;
  if (s < 0.1) return `1/${Math.round(1 / s)} s`;
  if (s < 0.3) return `1/${(1 / s).toFixed(1).replace(/\.0$/, "")} s`;
  return `${s.toFixed(1).replace(/\.0$/, "")} s`;
}
function bytes(n) {  // as the configuration counts them: 1 MB = 1024 KB
  if (n === null || n === undefined) return "?";
  for (const unit of ["B", "KB", "MB", "GB", "TB"]) {
    if (Math.abs(n) < 1024 || unit === "TB") {
      return unit === "B" || n === Math.round(n) ? `${Math.round(n)} ${unit}` : `${n.toFixed(1)} ${unit}`;
    }
    n /= 1024;
  }
}
function statusLine(s) {
  const parts = [s.state.replace("_", " ")];
  parts.push(shutter(s.exposure_us));
  if (s.lens && s.lens.f_number) parts.push(`f/${s.lens.f_number}`);
  parts.push(`ISO ${Math.round((s.analogue_gain || 0) * (s.digital_gain || 1) * 100)}`);
  parts.push(`${Math.round(s.colour_temperature || 0)} K ${s.awb || ""}`.trim());
  parts.push(s.look, s.drive_mode, s.raw ? "raw+jpeg" : "jpeg");
  parts.push(`${s.captures_written} written`, `${bytes(s.storage.free_bytes)} free`);
  return parts.join(" · ") + (s.last_error ? ` — ${s.last_error}` : "");
}

async function getJson(url, init) {
  const r = await fetch(url, Object.assign({cache: "no-store"}, init || {}));
  const doc = await r.json();
  if (doc.error) throw new Error(doc.error.message);
  return doc;
}
function shown(id, text, error) {
  $(id).textContent = text;
  $(id).classList.toggle("error", !!error);
}

function streamUrl() {
  const q = [];
  if ($("zebra").checked) q.push("zebra=1");
  if ($("peaking").checked) q.push("peaking=1");
  return "/stream.mjpg" + (q.length ? "?" + q.join("&") : "");
}
$("zebra").addEventListener("change", () => { $("view").src = streamUrl(); });
$("peaking").addEventListener("change", () => { $("view").src = streamUrl(); });

function drawHistogram(h) {
  const c = $("hist"), g = c.getContext("2d");
  g.clearRect(0, 0, c.width, c.height);
  const peak = Math.max(1, ...h.r, ...h.g, ...h.b, ...h.luma);
  const w = c.width / h.bins;
  g.globalCompositeOperation = "lighter";
  for (const [key, colour] of [["r", "#c00"], ["g", "#0a0"], ["b", "#00c"], ["luma", "#555"]]) {
    g.fillStyle = colour;
    h[key].forEach((n, i) => {
      const y = c.height * Math.sqrt(n / peak);
      g.fillRect(i * w, c.height - y, w, y);
    });
  }
  const cl = h.clipped;
  shown("clipping", `clipped R ${cl.r}% G ${cl.g}% B ${cl.b}% (raw ${h.raw_clipped}%)`, false);
}

async function refresh() {
  try {
    const s = await getJson("/api/status");
    shown("status", statusLine(s), s.state === "error");
  } catch (e) { shown("status", "camerad: " + e.message, true); }
  try { drawHistogram(await getJson("/api/histogram")); }
  catch (e) { shown("clipping", "histogram: " + e.message, true); }
  try {
    const f = await getJson("/api/focus");
    shown("focus", `${f.value.toFixed(2)} (peak ${f.peak.toFixed(2)})`, false);
  } catch (e) { shown("focus", e.message, true); }
}

function options(select, items, current) {
  select.replaceChildren(...items.map(([value, text]) => {
    const o = document.createElement("option");
    o.value = JSON.stringify(value);
    o.textContent = text;
    o.selected = JSON.stringify(value) === JSON.stringify(current);
    return o;
  }));
}
async function loadControls() {
  const g = await getJson("/api/get"), v = g.values, r = g.ranges;
  const speeds = SPEEDS.map((n) => Math.round(1e6 / n)).filter((us) => us >= r.exposure.min && us <= r.exposure.max);
  if (v.exposure !== "auto" && !speeds.includes(v.exposure)) speeds.push(v.exposure);
  options($("exposure"), [["auto", "auto"], ...speeds.map((us) => [us, shutter(us)])], v.exposure);
  const isos = ISOS.filter((iso) => iso / 100 >= r.gain.min && iso / 100 <= r.gain.max);
  options($("gain"), [["auto", "auto"], ...isos.map((iso) => [iso / 100, `ISO ${iso}`])], v.gain);
  const wb = v.colour_gains !== "auto" ? "custom" : v.awb;
  options($("awb"), r.awb.choices.map((m) => [m, m]), wb);
  options($("look"), r.look.choices.map((m) => [m, m]), v.look);
  options($("drive_mode"), r.drive_mode.choices.map((m) => [m, m]), v.drive_mode);
}
for (const key of ["exposure", "gain", "awb", "look", "drive_mode"]) {
  $(key).addEventListener("change", async () => {
    try {
      const done = await getJson("/api/set", {method: "POST", headers: {"X-Camerad": "1"},
        body: JSON.stringify({values: {[key]: JSON.parse($(key).value)}})});
      shown("control-msg", `${key} = ${$(key).selectedOptions[0].textContent}`, false);
      await loadControls();
      return done;
    } catch (e) { shown("control-msg", `${key}: ${e.message}`, true); }
  });
}

function showCapture(files) {
  const jpg = files.find((n) => n.endsWith(".jpg"));
  $("thumb").className = jpg ? "" : "none";
  if (jpg) $("thumb").src = `/captures/${encodeURIComponent(jpg)}?thumb=1`;
  $("downloads").replaceChildren(...files.map((n) => {
    const a = document.createElement("a");
    a.href = `/captures/${encodeURIComponent(n)}`;
    a.download = n;
    a.textContent = n.split(".").pop();
    return a;
  }));
}
async function latest() {
  try {
    const f = await getJson("/api/files?limit=1");
    if (f.captures.length) {
      showCapture(f.captures[0].files.map((x) => x.name));
      shown("last-capture", `${f.captures[0].stem} (${f.captures[0].time.slice(0, 19)})`, false);
    }
  } catch (e) { shown("last-capture", "captures: " + e.message, true); }
}

$("shutter").addEventListener("click", async () => {
  $("shutter").disabled = true;
  shown("last-capture", "capturing…", false);
  try {
    const doc = await getJson("/api/shutter", {method: "POST", headers: {"X-Camerad": "1"}});
    const names = doc.captures.flatMap((c) => c.files);
    if (names.length) {
      showCapture(doc.captures[0].files);
      shown("last-capture", `captured ${doc.captures.map((c) => c.stem).join(", ")} (${doc.drive_mode})`, false);
    } else shown("last-capture", doc.timelapse && doc.timelapse.active ? "timelapse started" : "timelapse stopped", false);
  } catch (e) { shown("last-capture", "error: " + e.message, true); }
  finally { $("shutter").disabled = false; }
});

setInterval(refresh, 1000);
refresh();
loadControls().catch((e) => shown("control-msg", "settings: " + e.message, true));
latest();
"""

PAGE = ("""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>camerad preview</title>
<style>""" + STYLE + """</style>
</head>
<body>
<header id="status">connecting…</header>
<main>
  <section>
    <img id="view" alt="live preview" src="/stream.mjpg">
    <div>
      <label><input type="checkbox" id="zebra"> zebras (clipped highlights)</label>
      <label><input type="checkbox" id="peaking"> focus peaking</label>
    </div>
    <div class="meters">
      <canvas id="hist" width="256" height="100"></canvas>
      <div>
        <div id="clipping" class="num"></div>
        <div>focus <span id="focus" class="num">–</span></div>
      </div>
    </div>
  </section>
  <aside>
    <fieldset>
      <legend>camera</legend>
      <div class="row"><span>shutter</span><select id="exposure"></select></div>
      <div class="row"><span>ISO</span><select id="gain"></select></div>
      <div class="row"><span>white balance</span><select id="awb"></select></div>
      <div class="row"><span>look</span><select id="look"></select></div>
      <div class="row"><span>drive mode</span><select id="drive_mode"></select></div>
      <div id="control-msg" class="num"></div>
    </fieldset>
    <button id="shutter">Shutter</button>
    <div id="last-capture" class="num"></div>
    <img id="thumb" class="none" alt="last capture">
    <div id="downloads"></div>
  </aside>
</main>
<script>""" + SCRIPT
        + """</script>
</body>
</html>
""")


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


CSP = (f"default-src 'none'; script-src {_sha256(SCRIPT)}; style-src {_sha256(STYLE)}; img-src 'self'; "
       "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
