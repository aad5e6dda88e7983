"""Open every page of the built site in headless Chromium and report what a reader would see
broken: JavaScript errors, failed requests, broken images, images without alt text, untypeset
math, error outputs and tracebacks, BertViz views that drew nothing, and pages wider than a
phone's screen.

Playwright drives the system's Chromium (``executable_path``: Playwright's own browser
download is never used, so the check runs offline). The site is served from 127.0.0.1, and a
screenshot of each page is saved at a desktop and a phone width.
"""

from pathlib import Path

from playwright.sync_api import Browser
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from . import headless

WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}
# How long a page may take to finish typesetting math and drawing BertViz views. A page that
# is not done by then is reported by what is still missing.
SETTLE_MS = 20_000
SETTLED = """() =>
  Array.from(document.querySelectorAll('.math')).every(m => m.querySelector('mjx-container'))
  && Array.from(document.querySelectorAll('[id^="bertviz-"]')).every(d => d.querySelector('svg'))
"""
DESKTOP_PROBE = r"""() => {
  const images = Array.from(document.images);
  const math = Array.from(document.querySelectorAll('.math'));
  return {
    brokenImages: images.filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src),
    imagesWithoutAlt: images.filter(i => !i.alt || /\.(png|svg|jpe?g)$/.test(i.alt)).map(i => i.src),
    untypesetMath: math.filter(m => !m.querySelector('mjx-container')).map(m => m.textContent.slice(0, 60)),
    errorOutputs: Array.from(document.querySelectorAll('.output.error, .output.traceback, .cell_output .stderr'))
                   .map(e => e.textContent.slice(0, 120)),
    tracebacks: document.body.innerText.includes('Traceback (most recent call last)'),
    blankViews: Array.from(document.querySelectorAll('[id^="bertviz-"]')).filter(d => !d.querySelector('svg')).length,
  };
}"""
# The outermost elements that stick out of the screen on the right, which a reader would have
# to scroll sideways to see (an element that scrolls inside its own box does not count).
PHONE_PROBE = r"""() => {
  const width = document.documentElement.clientWidth;
  const sticksOut = e => e.getBoundingClientRect().right > width + 1;
  const name = e => e.tagName.toLowerCase() + (e.className && typeof e.className === 'string'
    ? '.' + e.className.trim().split(/\s+/).join('.') : '');
  const wide = Array.from(document.body.querySelectorAll('*'))
    .filter(e => sticksOut(e) && !(e.parentElement && sticksOut(e.parentElement)));
  return {width, pageWidth: document.documentElement.scrollWidth,
          wide: wide.slice(0, 3).map(name)};
}"""


def check_site_with_chromium(html_dir: Path, pages: list[str], screenshot_dir: Path) -> dict:
    """``check_site`` in a Chromium of its own, started from the system's installation."""
    with headless.browser() as browser:
        return check_site(html_dir, pages, screenshot_dir, browser)


def _watch(page, problems: list[str]) -> None:
    """Append to ``problems`` every script error, console error and failed request of ``page``."""

    def on_error(error):
        where = (error.stack or "").splitlines()[1:2]
        problems.append(f"JavaScript exception: {error.message[:300]} {' '.join(where).strip()}")

    def on_console(message):
        url = message.location.get("url", "")
        # The browser asks for a favicon on its own; no page links to one.
        if message.type == "error" and not url.endswith("/favicon.ico"):
            problems.append(f"console error: {message.text[:200]} {url}".rstrip())

    def on_request_failed(request):
        # ERR_ABORTED is a request the page itself cancelled (e.g. on leaving it).
        if request.failure != "net::ERR_ABORTED" and not request.url.endswith("/favicon.ico"):
            problems.append(
                f"failed request: {request.failure} ({request.resource_type}) {request.url}"
            )

    page.on("pageerror", on_error)
    page.on("console", on_console)
    page.on("requestfailed", on_request_failed)


def _open(page, url: str) -> None:
    """Load ``url`` and wait until its requests are done and its math and views are drawn."""
    page.goto(url, wait_until="load", timeout=60_000)
    for settle in (
        lambda: page.wait_for_load_state("networkidle", timeout=SETTLE_MS),
        lambda: page.wait_for_function(SETTLED, timeout=SETTLE_MS),
    ):
        try:
            settle()
        except PlaywrightTimeout:
            pass  # the probes report whatever is still missing


def _desktop_problems(probe: dict) -> list[str]:
    problems = [f"broken image: {src}" for src in probe["brokenImages"]]
    problems += [f"untypeset math: {m!r}" for m in probe["untypesetMath"]]
    problems += [f"image without alt text: {src}" for src in probe["imagesWithoutAlt"]]
    problems += [f"error output: {t!r}" for t in probe["errorOutputs"]]
    if probe["tracebacks"]:
        problems.append("a traceback is shown on the page")
    if probe["blankViews"]:
        problems.append(f"{probe['blankViews']} BertViz view(s) drew nothing")
    return problems


def _phone_problems(probe: dict) -> list[str]:
    if probe["pageWidth"] <= probe["width"] + 1:
        return []
    return [
        f"at phone width the page is {probe['pageWidth']} px wide on a {probe['width']} px "
        f"screen (sticking out: {', '.join(probe['wide']) or 'unknown'})"
    ]


def check_site(html_dir: Path, pages: list[str], screenshot_dir: Path, browser: Browser) -> dict:
    """Visit each page (paths relative to ``html_dir``) in ``browser``; return {page: [problems]}.

    Every page is opened at a desktop width, where all checks run, and at a phone width, where
    the page must fit the screen; each view is saved as ``<page>-<desktop|phone>.png`` in
    ``screenshot_dir``.
    """
    screenshot_dir.mkdir(parents=True, exist_ok=True)
    with headless.serve(html_dir) as base:
        contexts = {
            label: browser.new_context(
                viewport={"width": width, "height": height},
                device_scale_factor=1,
                is_mobile=label == "phone",
            )
            for label, (width, height) in WIDTHS.items()
        }
        try:
            return {
                rel: _check_page(contexts, f"{base}/{rel}", rel, screenshot_dir) for rel in pages
            }
        finally:
            for context in contexts.values():
                context.close()


def _check_page(contexts: dict, url: str, rel: str, screenshot_dir: Path) -> list[str]:
    problems = []
    name = rel.replace("/", "_").removesuffix(".html")
    for label, context in contexts.items():
        page = context.new_page()
        if label == "desktop":
            _watch(page, problems)
        _open(page, url)
        if label == "desktop":
            problems += _desktop_problems(page.evaluate(DESKTOP_PROBE))
        else:
            problems += _phone_problems(page.evaluate(PHONE_PROBE))
        page.screenshot(path=str(screenshot_dir / f"{name}-{label}.png"))
        page.close()
    return problems
