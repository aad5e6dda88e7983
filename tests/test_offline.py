"""`make test` runs notebooks in a network namespace with only the loopback interface
(when the system allows it); this proves the isolation was really in force."""

import os
import socket

import pytest


@pytest.mark.skipif(
    os.environ.get("COURSE_EXPECT_OFFLINE") != "1",
    reason="not started inside the offline namespace (see Makefile OFFLINE)",
)
def test_only_loopback_is_reachable():
    assert [name for _, name in socket.if_nameindex()] == ["lo"]
