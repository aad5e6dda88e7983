"""Fixtures shared by the browser tests.

pytest-playwright's ``browser`` and ``page`` fixtures start Playwright's own browser build,
which is never downloaded here: this points them at the system's Chromium, with the flags the
site check uses, and skips the test where no Chromium is installed.
"""

import pytest

from booktools.headless import CHROMIUM_FLAGS, find_chromium


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    chromium = find_chromium()
    if chromium is None:
        pytest.skip(
            "no Chromium installed (Debian's `chromium` package; `make browser` installs it)"
        )
    return {**browser_type_launch_args, "executable_path": chromium, "args": CHROMIUM_FLAGS}
