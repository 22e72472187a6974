"""The preview page's screenshot for docs/operator.md: camerad on the mock, Debian's headless Chromium, one shot.

    .venv/bin/python tools/page_screenshot.py [-o docs/operator-page.png]

Starts ``camerad --mock`` with the page on a free loopback port in a temporary directory, opens the page,
turns zebras and focus peaking on, sets 1/60 s at ISO 200 (the brightest patches clip), takes a picture (so the last capture's thumbnail shows),
and saves the window as a small palette PNG.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait(predicate, timeout: float = 60.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            if predicate():
                return True
        except Exception:  # noqa: BLE001 - not ready yet
            pass
        time.sleep(0.2)
    raise SystemExit("timed out waiting for the page")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-o", "--output", type=Path, default=ROOT / "docs" / "operator-page.png")
    args = ap.parse_args(argv)
    from PIL import Image
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        cfg = Path(tmp) / "camerad.toml"
        cfg.write_text(f'[sensor]\nmode = "1332x990"\n[denoise]\nmode = "off"\n[storage]\nreserve_mb = 200\n'
                       f'state_directory = "{tmp}/state"\n[preview]\nenabled = true\nport = {port}\n')
        daemon = subprocess.Popen([sys.executable, "-m", "firmware.daemon.cli", "--mock", "--config", str(cfg),
                                   "--captures", f"{tmp}/captures", "--socket", f"{tmp}/c.sock"], cwd=ROOT,
                                  env=dict(os.environ, PYTHONPATH=str(ROOT)), stderr=subprocess.DEVNULL)
        os.environ["SE_OFFLINE"] = "true"
        opts = webdriver.ChromeOptions()
        opts.binary_location = "/usr/bin/chromium"
        for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1040,860",
                    f"--user-data-dir={tmp}/profile"):
            opts.add_argument(arg)
        browser = None
        try:
            wait(lambda: socket.create_connection(("127.0.0.1", port), timeout=1).close() is None)
            browser = webdriver.Chrome(service=Service(executable_path="/usr/bin/chromedriver"), options=opts)
            browser.get(f"http://127.0.0.1:{port}/")
            wait(lambda: browser.find_element(By.ID, "status").text.startswith("ready"))
            wait(lambda: len(Select(browser.find_element(By.ID, "look")).options) > 1)
            # Bright enough that the white patches clip: the zebras have something to show.
            Select(browser.find_element(By.ID, "gain")).select_by_visible_text("ISO 200")
            wait(lambda: "ISO 200" in browser.find_element(By.ID, "status").text)
            Select(browser.find_element(By.ID, "exposure")).select_by_visible_text("1/60 s")
            wait(lambda: "1/60 s" in browser.find_element(By.ID, "status").text)
            browser.find_element(By.ID, "zebra").click()
            browser.find_element(By.ID, "peaking").click()
            browser.find_element(By.ID, "shutter").click()
            wait(lambda: browser.execute_script("return document.getElementById('thumb').naturalWidth") > 0)
            time.sleep(1.5)  # a few frames of the overlaid stream
            shot = Path(tmp) / "page.png"
            browser.save_screenshot(str(shot))
        finally:
            if browser is not None:
                browser.quit()
            daemon.terminate()
            daemon.wait(30)
        with Image.open(shot) as im:
            im.convert("RGB").quantize(colors=96, dither=Image.Dither.NONE).save(args.output, optimize=True)
    print(f"{args.output} ({args.output.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
