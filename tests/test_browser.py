"""The site check (booktools/browser.py) finds what a reader would see broken, on a tiny site.

Each test builds a few HTML pages in a temporary folder, so no notebook runs and no book is
built. The browser is pytest-playwright's, started from the system's Chromium (tests/conftest.py).
"""

import socket
import struct

import matplotlib.image
import numpy as np
import pytest

from booktools import browser as site_check

HEAD = '<!doctype html><html><head><meta name="viewport" content="width=device-width">'


def _page(body: str, title: str = "page") -> str:
    return f"{HEAD}<title>{title}</title></head><body>{body}</body></html>"


def _closed_port() -> int:
    """A loopback port nothing listens on, so a request to it fails."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _png_size(path) -> tuple[int, int]:
    return struct.unpack(">II", path.read_bytes()[16:24])


@pytest.fixture
def tiny_site(tmp_path, monkeypatch):
    """A folder with a sound page, a page with every kind of breakage, and a too wide page."""
    monkeypatch.setattr(site_check, "SETTLE_MS", 1500)  # the broken page never settles
    html = tmp_path / "html"
    html.mkdir()
    matplotlib.image.imsave(html / "dot.png", np.zeros((4, 4, 3)))
    (html / "good.html").write_text(
        _page(
            '<h1>Fine</h1><img src="dot.png" alt="A black square">'
            '<span class="math"><mjx-container>x</mjx-container></span>'
            '<pre style="overflow-x: auto">' + "long_code_line " * 60 + "</pre>"
        )
    )
    (html / "broken.html").write_text(
        _page(
            "<script>undefined_function_here()</script>"
            "<script>console.error('something went wrong')</script>"
            '<img src="missing.png" alt="Missing figure">'
            '<img src="dot.png">'
            f'<img src="http://127.0.0.1:{_closed_port()}/far.png" alt="Far figure">'
            '<span class="math">\\(x^2\\)</span>'
            '<div class="output error">ZeroDivisionError: division by zero</div>'
            "<pre>Traceback (most recent call last):</pre>"
            '<div id="bertviz-1234"></div>'
        )
    )
    (html / "wide.html").write_text(_page('<div class="banner" style="width: 800px">wide</div>'))
    return html


def test_site_check_passes_a_sound_page_and_saves_both_screenshots(tiny_site, tmp_path, browser):
    shots = tmp_path / "shots"
    report = site_check.check_site(tiny_site, ["good.html"], shots, browser)
    assert report == {"good.html": []}
    assert _png_size(shots / "good-desktop.png") == site_check.WIDTHS["desktop"]
    assert _png_size(shots / "good-phone.png") == site_check.WIDTHS["phone"]


def test_site_check_reports_every_kind_of_breakage(tiny_site, tmp_path, browser):
    problems = site_check.check_site(tiny_site, ["broken.html"], tmp_path / "s", browser)[
        "broken.html"
    ]
    text = "\n".join(problems)
    expected = [
        "JavaScript exception: undefined_function_here is not defined",
        "console error: something went wrong",
        "console error: Failed to load resource",  # the 404 of missing.png
        "failed request: net::ERR_CONNECTION_REFUSED",
        "broken image: http://127.0.0.1",
        "image without alt text: ",
        "untypeset math: '\\\\(x^2\\\\)'",
        "error output: 'ZeroDivisionError: division by zero'",
        "a traceback is shown on the page",
        "1 BertViz view(s) drew nothing",
    ]
    for line in expected:
        assert line in text, f"{line!r} is not among the problems:\n{text}"
    assert sum("broken image" in p for p in problems) == 2  # missing.png and far.png
    assert sum("without alt text" in p for p in problems) == 1  # only dot.png has none


def test_site_check_reports_a_page_wider_than_a_phone(tiny_site, tmp_path, browser):
    report = site_check.check_site(tiny_site, ["wide.html"], tmp_path / "s", browser)
    [problem] = report["wide.html"]  # 800 px fits the desktop width: only the phone complains
    assert "at phone width the page is" in problem and "on a 390 px screen" in problem
    assert "div.banner" in problem
