"""Open every page of the built site in headless Chromium and report what a reader would see
broken: JavaScript errors, failed requests, broken images, untypeset math, error outputs.

It talks to Chromium over the DevTools protocol (a websocket), serves ``_build/html`` from
127.0.0.1, and saves a screenshot of each page at a desktop and a phone width.
"""

import base64
import functools
import http.server
import json
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import websocket

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
]
WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}
PAGE_PROBE = r"""(() => {
  const images = Array.from(document.images);
  const math = Array.from(document.querySelectorAll('.math'));
  return JSON.stringify({
    title: document.title,
    brokenImages: images.filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src),
    imagesWithoutAlt: images.filter(i => !i.alt || /\.(png|svg|jpe?g)$/.test(i.alt)).map(i => i.src),
    math: math.length,
    untypesetMath: math.filter(m => !m.querySelector('mjx-container')).map(m => m.textContent.slice(0, 60)),
    errorOutputs: Array.from(document.querySelectorAll('.output.error, .output.traceback, .cell_output .stderr'))
                   .map(e => e.textContent.slice(0, 120)),
    tracebacks: document.body.innerText.includes('Traceback (most recent call last)'),
    blankViews: Array.from(document.querySelectorAll('[id^="bertviz-"]')).filter(d => !d.querySelector('svg')).length,
    headings: Array.from(document.querySelectorAll('main h1, main h2, main h3, main h4')).map(h => Number(h.tagName[1])),
  });
})()"""


def find_chromium() -> str | None:
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(directory: Path):
    """Serve ``directory`` on 127.0.0.1 in a background thread; return (server, base_url)."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class Page:
    """A Chromium tab driven over the DevTools protocol."""

    def __init__(self, ws_url: str):
        self.ws = websocket.create_connection(ws_url, timeout=60, suppress_origin=True)
        self.next_id = 0
        self.events = []

    def call(self, method: str, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def drain(self, seconds: float):
        """Collect events for a while (requests finishing, scripts running, MathJax)."""
        end = time.time() + seconds
        self.ws.settimeout(0.2)
        while time.time() < end:
            try:
                self.events.append(json.loads(self.ws.recv()))
            except websocket.WebSocketTimeoutException:
                continue
        self.ws.settimeout(60)

    def evaluate(self, expression: str):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result.get("result", {}).get("value")


def _problems_from_events(events) -> list[str]:
    problems = []
    for e in events:
        method, params = e.get("method"), e.get("params", {})
        if method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            description = details.get("exception", {}).get("description", "")
            problems.append(
                f"JavaScript exception: {details.get('text')} {description[:300]} "
                f"at {details.get('url', '')}:{details.get('lineNumber')}"
            )
        elif method == "Runtime.consoleAPICalled" and params.get("type") == "error":
            args = " ".join(str(a.get("value", a.get("description", ""))) for a in params["args"])
            problems.append(f"console error: {args[:200]}")
        elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
            if params["entry"].get("url", "").endswith("/favicon.ico"):
                continue  # the browser asks for it on its own; no page links to it
            problems.append(
                f"browser error: {params['entry'].get('text', '')[:200]} "
                f"{params['entry'].get('url', '')}"
            )
        elif method == "Network.loadingFailed" and not params.get("canceled"):
            problems.append(f"failed request: {params.get('errorText')} ({params.get('type')})")
    return problems


def check_site(html_dir: Path, pages: list[str], screenshot_dir: Path, chromium: str) -> dict:
    """Visit each page (paths relative to ``html_dir``); return {page: [problems]}."""
    screenshot_dir.mkdir(parents=True, exist_ok=True)
    server, base = serve(html_dir)
    port = _free_port()
    profile = tempfile.mkdtemp(prefix="chromium-")
    browser = subprocess.Popen(
        [
            chromium,
            *FLAGS,
            f"--remote-debugging-port={port}",
            f"--user-data-dir={profile}",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    report = {}
    try:
        targets = _wait_for_devtools(port)
        page = Page(next(t for t in targets if t["type"] == "page")["webSocketDebuggerUrl"])
        for domain in ("Page", "Runtime", "Log", "Network"):
            page.call(f"{domain}.enable")
        for rel in pages:
            problems = []
            for label, (width, height) in WIDTHS.items():
                page.call(
                    "Emulation.setDeviceMetricsOverride",
                    width=width,
                    height=height,
                    deviceScaleFactor=1,
                    mobile=label == "phone",
                )
                page.events.clear()
                page.call("Page.navigate", url=f"{base}/{rel}")
                page.drain(4.0)
                probe = json.loads(page.evaluate(PAGE_PROBE))
                if label == "desktop":
                    problems += _problems_from_events(page.events)
                    problems += [f"broken image: {src}" for src in probe["brokenImages"]]
                    problems += [f"untypeset math: {m!r}" for m in probe["untypesetMath"]]
                    problems += [
                        f"image without alt text: {src}" for src in probe["imagesWithoutAlt"]
                    ]
                    problems += [f"error output: {t!r}" for t in probe["errorOutputs"]]
                    if probe["tracebacks"]:
                        problems.append("a traceback is shown on the page")
                    if probe["blankViews"]:
                        problems.append(f"{probe['blankViews']} BertViz view(s) drew nothing")
                shot = page.call(
                    "Page.captureScreenshot", format="png", captureBeyondViewport=False
                )
                name = rel.replace("/", "_").removesuffix(".html")
                (screenshot_dir / f"{name}-{label}.png").write_bytes(base64.b64decode(shot["data"]))
            report[rel] = problems
    finally:
        browser.terminate()
        browser.wait(timeout=10)
        server.shutdown()
        shutil.rmtree(profile, ignore_errors=True)
    return report


def _wait_for_devtools(port: int, timeout: float = 30.0):
    end = time.time() + timeout
    while time.time() < end:
        try:
            # No proxy: the browser is on this machine, whatever the environment says.
            opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
            with opener.open(f"http://127.0.0.1:{port}/json/list", timeout=2) as r:
                targets = json.loads(r.read())
            if any(t["type"] == "page" for t in targets):
                return targets
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"Chromium did not open its DevTools port {port} within {timeout:.0f} s")
