"""Headless Chromium through Playwright, for the site check, the PDF and the slides.

Playwright drives the system's Chromium (Debian's ``chromium`` package): it never downloads a
browser of its own. Pages are served from 127.0.0.1, and :class:`Watcher` records what a reader
would see broken: JavaScript errors, console errors, failed requests and any request that
leaves the machine (which is refused, so a page that needs a CDN fails here).
"""

import contextlib
import functools
import http.server
import shutil
import threading
from pathlib import Path
from urllib.parse import urlparse

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
# Flags for a root user in a container with no GPU, and no calls home.
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--no-proxy-server",
]
LOCAL_HOSTS = ("127.0.0.1", "localhost")


def find_chromium() -> str | None:
    """The path of the system's Chromium or Chrome, or None."""
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


def require_chromium() -> str:
    """The path of the system's Chromium; a clear error when there is none."""
    path = find_chromium()
    if path is None:
        raise SystemExit(
            "no Chromium found: install Debian's `chromium` package (`make browser` does this "
            "when it runs as root)"
        )
    return path


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class _QuietServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # a page closed before its last response was sent (the favicon, say)


@contextlib.contextmanager
def serve(directory: Path):
    """Serve ``directory`` on 127.0.0.1 in a background thread; yield its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = _QuietServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def browser():
    """A headless Chromium (the system's) under Playwright; closed on exit."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=require_chromium(), args=CHROMIUM_FLAGS, headless=True
        )
        try:
            yield chromium
        finally:
            chromium.close()


class Watcher:
    """Collect the problems a page shows while it loads and runs; refuse off-machine requests."""

    def __init__(self, page):
        self.problems: list[str] = []
        self.refused: set[str] = set()
        page.on("pageerror", lambda error: self.problems.append(f"JavaScript error: {error}"))
        page.on("console", self._console)
        page.on("requestfailed", self._failed)
        page.route("**/*", self._route)

    def _console(self, message):
        if message.type == "error":
            self.problems.append(f"console error: {message.text[:300]}")

    def _failed(self, request):
        if request.url in self.refused:
            return  # reported once, as refused
        self.problems.append(f"failed request: {request.url} ({request.failure})")

    def _route(self, route):
        url = route.request.url
        parsed = urlparse(url)
        if parsed.scheme in ("http", "https", "ws", "wss") and parsed.hostname not in LOCAL_HOSTS:
            self.problems.append(f"request off this machine (refused): {url}")
            self.refused.add(url)
            route.abort()
        else:
            route.continue_()
