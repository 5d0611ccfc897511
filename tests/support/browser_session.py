"""Open pages in Debian's headless Chromium (selenium, chromedriver) and report what a person
sees and what the browser tried to fetch.

`visit()` runs the whole browser session in a child process (`python -m
tests.support.browser_session`) inside a network namespace of its own (`unshare --net`: only
a loopback interface, no route anywhere) when that works here, else as it is, with Chromium's
proxy set to a closed local port. Inside, a listener on 127.0.0.1:PORT counts the requests that
reach it (the positive control plants an image on it). For each page the child reports its
title, its text, its `<script>` elements, every table of each section, the requests Chromium's
performance log saw (Network.requestWillBeSent) other than file:, data: and its own chrome:
pages, the loads it blocked and why (Network.loadingFailed), the console, the listener's hits,
and a full-page screenshot.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import socket
import struct
import subprocess  # nosec B404 - the test drives its own child and unshare
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
REPO = Path(__file__).resolve().parents[2]
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--proxy-server=http://127.0.0.1:9", "--window-size=1000,1000", "--hide-scrollbars",
         "--lang=en-US")
LOCAL_SCHEMES = ("file:", "data:", "chrome:", "about:", "blob:")


@dataclass(frozen=True)
class Seen:
    name: str
    title: str
    text: str
    scripts: int
    tables: dict[str, list[list[str]]]  # section id -> rows of cell texts (all its tables)
    requests: list[str]
    blocked: list[tuple[str, str]]  # (url, blockedReason or errorText)
    console: list[str]
    hits: list[str]  # request lines that reached the listener while the page was open
    screenshot: str


@dataclass(frozen=True)
class Session:
    isolation: str  # "netns: lo only" or "proxy to a closed port (unshare --net failed: ...)"
    seconds: float
    pages: dict[str, Seen]


def missing_browser() -> str:
    absent = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not os.access(p, os.X_OK)]
    return f"{', '.join(absent)} missing: run `make browser-deps`" if absent else ""


def _netns_works() -> str:
    try:
        done = subprocess.run(["unshare", "--net", "true"], capture_output=True, text=True,
                              timeout=20)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return str(exc)
    return "" if done.returncode == 0 else (done.stderr.strip() or f"exit {done.returncode}")


def visit(pages: dict[str, Path], shots: Path, port: int, timeout: float = 180) -> Session:
    """Open each page (name -> file) in one browser; screenshots go to shots/<name>.png."""
    spec = json.dumps({"pages": {k: str(v) for k, v in pages.items()}, "shots": str(shots),
                       "port": port})
    argv = [sys.executable, "-m", "tests.support.browser_session", spec]
    why = _netns_works()
    if not why:
        argv = ["unshare", "--net", "--", *argv]
    started = time.monotonic()
    # its own process group: chromedriver and Chromium go with it on a timeout or an interrupt
    child = subprocess.Popen(argv, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, start_new_session=True)
    try:
        out, err = child.communicate(timeout=timeout)
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
    if child.returncode != 0:
        raise RuntimeError(f"browser session failed (exit {child.returncode}): {err}")
    data = json.loads(out)
    isolation = data["isolation"] if not why else f"proxy to a closed port ({why})"
    seen = {k: Seen(**{**v, "blocked": [tuple(b) for b in v["blocked"]]})
            for k, v in data["pages"].items()}
    return Session(isolation, time.monotonic() - started, seen)


# --- the child ------------------------------------------------------------------------------

def _loopback_up() -> str:
    """In a fresh network namespace: bring `lo` up; say which interfaces there are."""
    names = sorted(name for _, name in socket.if_nameindex())  # this namespace's, not sysfs's
    if names == ["lo"]:
        siocgifflags, siocsifflags, iff_up = 0x8913, 0x8914, 0x1
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            req = struct.pack("16sH14s", b"lo", 0, b"")
            flags = struct.unpack("16sH14s", fcntl.ioctl(s, siocgifflags, req))[1]
            fcntl.ioctl(s, siocsifflags, struct.pack("16sH14s", b"lo", flags | iff_up, b""))
        return "netns: lo only"
    return f"host network ({', '.join(names)})"


class _Listener:
    def __init__(self, port: int) -> None:
        self.hits: list[str] = []
        self.sock = socket.create_server(("127.0.0.1", port))
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            conn, _ = self.sock.accept()
            with conn:
                conn.settimeout(2)
                try:
                    self.hits.append(conn.recv(4096).split(b"\r\n", 1)[0].decode("latin-1"))
                except OSError:
                    self.hits.append("(connection without a request line)")


def _driver() -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*FLAGS, f"--user-data-dir={tempfile.mkdtemp(prefix='finsig-chromium-')}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    return webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)


_TABLES = """
const out = {};
for (const s of document.querySelectorAll('section')) {
  out[s.id] = [...s.querySelectorAll('tr')].map(r => [...r.cells].map(c => c.innerText.trim()));
}
return out;
"""


def _network(driver: Any) -> tuple[list[str], list[tuple[str, str]]]:
    events = [json.loads(e["message"])["message"] for e in driver.get_log("performance")]
    urls = {m["params"]["requestId"]: m["params"]["request"]["url"] for m in events
            if m["method"] == "Network.requestWillBeSent"}
    requests = [u for u in urls.values() if not u.startswith(LOCAL_SCHEMES)]
    blocked = [(urls.get(m["params"]["requestId"], "?"),
                m["params"].get("blockedReason") or m["params"].get("errorText", ""))
               for m in events if m["method"] == "Network.loadingFailed"
               and m["params"]["requestId"] in urls]
    return requests, blocked


def _seen(driver: Any, listener: _Listener, name: str, path: str, shots: Path) -> dict[str, Any]:
    from selenium.webdriver.common.by import By

    for kind in ("performance", "browser"):  # drain what the previous page left
        driver.get_log(kind)
    before = len(listener.hits)
    driver.get(Path(path).as_uri())
    time.sleep(0.3)  # late requests, if any
    height = int(driver.execute_script("return document.documentElement.scrollHeight"))
    driver.set_window_size(1000, min(max(height, 600), 16000))
    shot = shots / f"{name}.png"
    driver.save_screenshot(str(shot))
    requests, blocked = _network(driver)
    return {
        "name": name, "title": driver.title,
        "text": driver.find_element(By.TAG_NAME, "body").text,
        "scripts": len(driver.find_elements(By.TAG_NAME, "script")),
        "tables": driver.execute_script(_TABLES), "requests": requests, "blocked": blocked,
        "console": [f"{e['level']} {e.get('source', '')}: {e['message']}"
                    for e in driver.get_log("browser")],
        "hits": listener.hits[before:], "screenshot": str(shot),
    }


def main(spec_text: str) -> None:
    spec = json.loads(spec_text)
    isolation = _loopback_up()
    listener = _Listener(int(spec["port"]))
    shots = Path(spec["shots"])
    shots.mkdir(parents=True, exist_ok=True)
    driver = _driver()
    try:
        pages = {name: _seen(driver, listener, name, path, shots)
                 for name, path in spec["pages"].items()}
    finally:
        driver.quit()
    print(json.dumps({"isolation": isolation, "pages": pages}))


if __name__ == "__main__":
    main(sys.argv[1])
