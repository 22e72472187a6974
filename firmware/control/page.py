"""The preview page itself: one self-contained HTML document (no external scripts, fonts or styles).

Its Content-Security-Policy allows exactly its own inline script and style (by their SHA-256), images and
requests from its own origin, and no framing by any other page (``frame-ancestors 'none'``).
"""

import base64
import hashlib

STYLE = """
  body { margin: 0; background: #111; color: #ddd; font: 14px/1.4 system-ui, sans-serif; }
  header { padding: 6px 12px; background: #000; font-family: ui-monospace, monospace; font-size: 13px; }
  main { display: flex; flex-wrap: wrap; gap: 12px; padding: 12px; }
  #view { max-width: 100%; background: #222; min-width: 320px; min-height: 240px; }
  aside { display: flex; flex-direction: column; gap: 10px; min-width: 280px; }
  button { font-size: 18px; padding: 12px 24px; border-radius: 24px; border: 2px solid #c33; background: #400;
           color: #fff; cursor: pointer; }
  button:disabled { opacity: 0.5; }
  label { margin-right: 14px; }
  #hist { background: #000; width: 256px; height: 100px; }
  .error { color: #f66; }
  .num { font-family: ui-monospace, monospace; }
"""

SCRIPT = r"""
"use strict";
const $ = (id) => document.getElementById(id);

function streamUrl() {
  const q = [];
  if ($("zebra").checked) q.push("zebra=1");
  if ($("peaking").checked) q.push("peaking=1");
  return "/stream.mjpg" + (q.length ? "?" + q.join("&") : "");
}
$("zebra").onchange = $("peaking").onchange = () => { $("view").src = streamUrl(); };

async function getJson(url) {
  const r = await fetch(url, {cache: "no-store"});
  const doc = await r.json();
  if (doc.error) throw new Error(doc.error.message);
  return doc;
}

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
  $("clipping").textContent = `clipped R ${cl.r}% G ${cl.g}% B ${cl.b}% (raw ${h.raw_clipped}%)`;
}

async function refresh() {
  try {
    const s = await getJson("/api/status");
    $("status").textContent = s.line;
    $("status").className = "";
  } catch (e) {
    $("status").textContent = "camerad: " + e.message;
    $("status").className = "error";
  }
  try { drawHistogram(await getJson("/api/histogram")); } catch (e) { /* shown in the status line */ }
  try {
    const f = await getJson("/api/focus");
    $("focus").textContent = `${f.value.toFixed(2)} (peak ${f.peak.toFixed(2)})`;
  } catch (e) { /* idem */ }
}
setInterval(refresh, 1000);
refresh();

$("shutter").onclick = async () => {
  $("shutter").disabled = true;
  $("last-capture").textContent = "capturing…";
  try {
    const r = await fetch("/api/shutter", {method: "POST", headers: {"X-Camerad": "1"}});
    const doc = await r.json();
    if (doc.error) throw new Error(doc.error.message);
    const names = doc.captures.flatMap((c) => c.files);
    $("last-capture").textContent = names.length ? "captured " + names.join(" ")
      : (doc.timelapse && doc.timelapse.active ? "timelapse started" : "timelapse stopped");
    $("last-capture").className = "num";
  } catch (e) {
    $("last-capture").textContent = "error: " + e.message;
    $("last-capture").className = "num error";
  } finally {
    $("shutter").disabled = false;
  }
};
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
  <img id="view" alt="live preview" src="/stream.mjpg">
  <aside>
    <div>
      <label><input type="checkbox" id="zebra"> zebras (clipped highlights)</label>
      <label><input type="checkbox" id="peaking"> focus peaking</label>
    </div>
    <canvas id="hist" width="256" height="100"></canvas>
    <div id="clipping" class="num"></div>
    <div>focus <span id="focus" class="num">–</span></div>
    <button id="shutter">Shutter</button>
    <div id="last-capture" class="num"></div>
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
