"""The preview page as an operator uses it, in Debian's headless Chromium against the real daemon on the mock: the
status line in photographer's units, the exposure/ISO/WB/look/drive-mode controls, the last capture's thumbnail and
downloads, overlays whose colours cannot be confused, errors shown - all under the page's strict CSP."""

import http.client
import json
import re

import numpy as np
import pytest

from browser_support import chromium, needs_browser
from control_support import Daemon, until


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    d = Daemon(tmp_path_factory.mktemp("page"), preview=True).start()
    yield d
    assert d.stop() == 0, d.log_text()


def get(d, path, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", d.port, timeout=30)
    conn.request("GET", path, headers=headers or {})
    r = conn.getresponse()
    body = r.read()
    conn.close()
    return r, body


def post(d, path, body: bytes, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", d.port, timeout=60)
    conn.request("POST", path, body=body, headers={"Content-Type": "application/json", **(headers or {})})
    r = conn.getresponse()
    out = r.read()
    conn.close()
    return r.status, json.loads(out)


def settings(d) -> dict:
    return d.call("get")["result"]["values"]


def test_settings_and_captures_over_http_keep_the_guards(daemon):
    # set needs the header a page on another origin cannot send without a preflight nobody answers.
    status, doc = post(daemon, "/api/set", b'{"values": {"look": "neutral"}}')
    assert status == 403 and "X-Camerad" in doc["error"]["message"] and settings(daemon)["look"] != "neutral"
    status, doc = post(daemon, "/api/set", b'{"values": {"gain": 99}}', {"X-Camerad": "1"})
    assert status == 400 and "out of range" in doc["error"]["message"]
    status, doc = post(daemon, "/api/set", b"not json", {"X-Camerad": "1"})
    assert status == 400 and doc["error"]["code"] == "invalid_params"
    status, _ = post(daemon, "/api/shutter", b"", {"X-Camerad": "1"})
    assert status == 200
    stem = daemon.call("files", {"limit": 1})["result"]["captures"][0]["stem"]
    r, body = get(daemon, f"/captures/{stem}.jpg")
    assert r.status == 200 and body == (daemon.captures / f"{stem}.jpg").read_bytes()
    assert r.getheader("Content-Disposition") == f'attachment; filename="{stem}.jpg"'
    assert "'unsafe-inline'" not in r.getheader("Content-Security-Policy")
    r, body = get(daemon, f"/captures/{stem}.jpg?thumb=1")
    assert r.status == 200 and body[:2] == b"\xff\xd8" and len(body) < 40_000
    for bad in ("..%2Fcamerad.toml", ".hidden", "nothing.jpg"):
        assert get(daemon, f"/captures/{bad}")[0].status in (400, 404)
    # Another origin's page cannot take the files (fetch metadata marks it).
    assert get(daemon, f"/captures/{stem}.jpg", {"Sec-Fetch-Site": "cross-site"})[0].status == 403


def magenta(jpeg: bytes) -> int:
    from io import BytesIO

    from PIL import Image

    px = np.asarray(Image.open(BytesIO(jpeg)).convert("RGB")).astype(int)
    return int(((px[..., 0] > 200) & (px[..., 1] < 70) & (px[..., 2] > 200)).sum())


def test_peaking_over_zebras_is_a_colour_the_stripes_never_have(daemon):
    zebra = get(daemon, "/frame.jpg?zebra=1")[1]
    both = get(daemon, "/frame.jpg?zebra=1&peaking=1")[1]
    assert magenta(zebra) == 0 and magenta(both) > 200  # the chart's edges, drawn over the stripes
    cli = daemon.call("preview", {"zebra": True, "peaking": True})["result"]  # camctl preview: the same overlay
    import base64

    assert magenta(base64.b64decode(cli["jpeg"])) > 200


@needs_browser
def test_in_chromium_an_operator_sets_the_camera_shoots_and_downloads(daemon, tmp_path, monkeypatch):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    browser = chromium(tmp_path / "profile", monkeypatch)
    try:
        browser.get(f"http://127.0.0.1:{daemon.port}/")
        text = lambda id_: browser.find_element(By.ID, id_).text  # noqa: E731
        # The status line speaks as a camera does.
        units = r"^ready · 1/\d+ s · f/[\d.]+ · ISO \d+ · \d+ K"
        assert until(lambda: re.match(units, text("status")), timeout=30), text("status")
        assert until(lambda: len(Select(browser.find_element(By.ID, "look")).options) == 4, timeout=30)

        def choose(control, visible, key, expected):
            from selenium.common.exceptions import StaleElementReferenceException

            for _ in range(5):  # the page rebuilds its options after every change: take the select afresh
                try:
                    Select(browser.find_element(By.ID, control)).select_by_visible_text(visible)
                    break
                except StaleElementReferenceException:
                    continue
            assert until(lambda: settings(daemon)[key] == expected, timeout=20), (control, text("control-msg"))
            assert until(lambda: text("control-msg") == f"{key} = {visible}", timeout=20), text("control-msg")

        choose("gain", "ISO 400", "gain", 4.0)
        choose("exposure", "1/250 s", "exposure", 4000)
        assert until(lambda: re.search(r" · 1/250 s · f/[\d.]+ · ISO 400 · ", text("status")), timeout=30), \
            text("status")
        choose("awb", "daylight", "awb", "daylight")
        choose("look", "leica-monochrome", "look", "leica-monochrome")
        choose("drive_mode", "burst", "drive_mode", "burst")
        choose("drive_mode", "single", "drive_mode", "single")
        assert "drive_mode = single" in text("control-msg")
        # Shoot: the last capture appears as a thumbnail with a download per file.
        browser.find_element(By.ID, "shutter").click()
        assert until(lambda: text("last-capture").startswith("captured "), timeout=60), text("last-capture")
        stem = daemon.call("files", {"limit": 1})["result"]["captures"][0]["stem"]
        assert stem in text("last-capture")
        links = {a.text: a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, "#downloads a")}
        assert sorted(links) == ["dng", "jpg", "json"] and links["jpg"].endswith(f"/captures/{stem}.jpg")
        assert until(lambda: 0 < browser.execute_script("return document.getElementById('thumb').naturalWidth")
                     <= 320, timeout=20)
        assert json.loads((daemon.captures / f"{stem}.json").read_text())["capture"]["look"] == "leica-monochrome"
        shot = browser.find_element(By.ID, "thumb").screenshot_as_png
        from io import BytesIO

        from PIL import Image

        thumb = np.asarray(Image.open(BytesIO(shot)).convert("RGB")).astype(int)
        assert np.abs(thumb[..., 0] - thumb[..., 1]).mean() < 2  # the monochrome look it was taken in
        # A reading that fails says why, in its own place (the requests blocked in the browser).
        browser.execute_cdp_cmd("Network.enable", {})
        browser.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["*/api/histogram*", "*/api/focus*"]})
        err = lambda id_: "error" in browser.find_element(By.ID, id_).get_attribute("class")  # noqa: E731
        assert until(lambda: err("clipping") and err("focus"), timeout=20)
        assert text("clipping").startswith("histogram: ") and text("focus")
        browser.execute_cdp_cmd("Network.setBlockedURLs", {"urls": []})
        assert until(lambda: not err("clipping") and "clipped R" in text("clipping"), timeout=20)
        # Nothing the page does trips its Content-Security-Policy.
        csp = [e["message"] for e in browser.get_log("browser") if "Content Security Policy" in e["message"]]
        assert not csp, csp
    finally:
        browser.quit()
        for key, value in (("exposure", "auto"), ("gain", "auto"), ("awb", "auto"), ("look", "leica-authentic")):
            daemon.call("set", {"values": {key: value}})
