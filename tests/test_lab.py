"""The class workflow, end to end: JupyterLab opens a chapter, runs it, and a slider redraws.

A Jupyter server from this environment (the one ``make lab`` starts) serves a temporary copy of
chapter 02 on 127.0.0.1, laid out as in the repository (``notebooks/`` beside
``jupytext.toml``). Headless Chromium, driven by Playwright, opens the notebook, runs its cells
up to the first widget, and drags the slider; the figure under the slider must change, and
saving must write the paired ``.md`` too (jupytext). Without Chromium the test is skipped.
"""

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect

ROOT = Path(__file__).resolve().parent.parent
CHAPTER = "02_perceptron"
WIDGET_CODE = "explore(draw_step"  # the cell that shows the chapter's first slider
WAIT_MS = 120_000  # for anything the kernel does: generous, a loaded 2-core machine is slow
# Loopback only, even where the environment names a proxy.
LOCAL = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answers(url: str) -> bool:
    try:
        with LOCAL.open(url, timeout=5) as response:
            return response.status == 200
    except OSError:
        return False


def _stop(server: subprocess.Popen, base: str, token: str) -> None:
    """Ask the server to shut down (it stops its kernels first); kill it if it does not."""
    request = urllib.request.Request(f"{base}/api/shutdown?token={token}", method="POST")
    try:
        LOCAL.open(request, timeout=10).close()
        server.wait(timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        server.kill()
        server.wait(timeout=30)


@pytest.fixture
def lab(tmp_path):
    """A JupyterLab server on a copy of the chapter; yields (base_url, token, notebook path)."""
    (tmp_path / "notebooks").mkdir()
    for suffix in (".ipynb", ".md"):
        shutil.copy(ROOT / "notebooks" / f"{CHAPTER}{suffix}", tmp_path / "notebooks")
    shutil.copy(ROOT / "jupytext.toml", tmp_path)
    port, token = _free_port(), secrets.token_hex(16)
    base = f"http://127.0.0.1:{port}"
    bin_dir = Path(sys.executable).parent
    state = tmp_path / "jupyter-state"
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",  # kernel's python
        # Settings and saved workspaces of whoever runs the tests must not change what opens.
        "JUPYTER_RUNTIME_DIR": str(state / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(state / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(state / "workspaces"),
    }
    command = [
        str(bin_dir / "jupyter"),
        "lab",
        "--no-browser",
        "--allow-root",  # CI runs as root
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={tmp_path}",
        "--ContentsManager.preferred_dir=notebooks",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    # No news from the internet (JupyterLab would ask whether to fetch it).
    news = state / "settings" / "@jupyterlab" / "apputils-extension"
    news.mkdir(parents=True)
    (news / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')
    log = open(tmp_path / "server.log", "w")
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while not _answers(f"{base}/api/status?token={token}"):
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the Jupyter server did not start:\n{_tail(tmp_path / 'server.log')}")
            time.sleep(0.5)
        yield base, token, tmp_path / "notebooks" / f"{CHAPTER}.ipynb"
    finally:
        _stop(server, base, token)
        log.close()


def _tail(path: Path, lines: int = 30) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def _wait_until(condition, what: str) -> None:
    """Poll ``condition`` until it holds; fail after WAIT_MS, saying what did not happen."""
    deadline = time.monotonic() + WAIT_MS / 1000
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"waited {WAIT_MS / 1000:.0f} s for {what}")
        time.sleep(0.2)


def _widget_cell_index(notebook: Path) -> int:
    """The position of the notebook's first widget cell."""
    cells = json.loads(notebook.read_text())["cells"]
    for index, cell in enumerate(cells):
        if cell["cell_type"] == "code" and WIDGET_CODE in "".join(cell["source"]):
            return index
    raise AssertionError(f"{notebook.name} has no cell with {WIDGET_CODE!r}")


def test_a_slider_in_jupyterlab_redraws_its_figure(lab, page):
    base, token, notebook = lab
    page.set_default_timeout(WAIT_MS)
    page.goto(f"{base}/lab/tree/notebooks/{notebook.name}?token={token}")
    panel = page.locator(".jp-NotebookPanel:visible")
    # The kernel has started and the notebook is the current document.
    page.get_by_text(re.compile(r"ipykernel\)\s*\|\s*Idle")).wait_for()
    panel.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").wait_for()

    # Select the widget cell, run every cell above it (Run menu), then run it (Ctrl+Enter).
    index = _widget_cell_index(notebook)
    cell = panel.locator(".jp-Cell").nth(index)
    cell.locator(".jp-InputPrompt").click()
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    run_above = page.locator(".lm-Menu-item", has_text="Run All Above Selected Cell")
    expect(run_above).not_to_have_class(re.compile("lm-mod-disabled"), timeout=WAIT_MS)
    run_above.click()
    # A cell above the widget's trains the perceptron and prints that it converged.
    trained = panel.locator(".jp-OutputArea-output").filter(has_text="converged: True")
    expect(trained).to_be_visible(timeout=WAIT_MS)
    cell.locator(".jp-InputPrompt").click()
    page.keyboard.press("Control+Enter")

    handle = cell.locator(".widget-slider .noUi-handle")
    handle.wait_for()
    figure = cell.locator(".jp-OutputArea-output img")
    figure.wait_for()
    readout = cell.locator(".widget-readout")
    # A widget that failed shows "Loading widget..." or "Error displaying widget" instead.
    output_text = cell.locator(".jp-OutputArea").inner_text()
    assert "Loading widget" not in output_text and "Error" not in output_text, output_text
    before = {"value": readout.inner_text(), "figure": figure.get_attribute("src")}

    # Drag the handle (at the last step) to a quarter of the track.
    handle.scroll_into_view_if_needed()
    track = cell.locator(".widget-slider .noUi-target").bounding_box()
    box = handle.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(track["x"] + track["width"] / 4, box["y"] + box["height"] / 2, steps=5)
    page.mouse.up()

    expect(readout).not_to_have_text(before["value"], timeout=WAIT_MS)
    assert int(readout.inner_text()) < int(before["value"])
    _wait_until(lambda: figure.get_attribute("src") != before["figure"], "the figure to redraw")
    assert "Error" not in cell.locator(".jp-OutputArea").inner_text()

    # Saving writes the paired .md too: jupytext reads jupytext.toml, as under `make lab`.
    paired = notebook.with_suffix(".md")
    written = paired.stat().st_mtime_ns
    page.locator(".lm-MenuBar-itemLabel", has_text="File").first.click()
    page.locator(".lm-Menu-itemLabel").get_by_text("Save Notebook", exact=True).click()
    _wait_until(lambda: paired.stat().st_mtime_ns != written, "the save to rewrite the .md")
