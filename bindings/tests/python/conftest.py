"""Fixtures for the Python binding tests: temporary store paths and a real
lynchpin-server process on 127.0.0.1.

The generated module `lynchpin` (with liblynchpin next to it) must be on
PYTHONPATH and LYNCHPIN_SERVER must name the server binary; scripts/test-bindings
sets both.
"""

import os
import subprocess

import pytest


class Server:
    """A lynchpin-server process on a free port, with its own data folder."""

    def __init__(self, binary, data):
        self.binary = binary
        self.data = str(data)
        self.process = subprocess.Popen(
            [binary, "--data", self.data, "--listen", "127.0.0.1:0"],
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "RUST_LOG": "warn"},
        )
        line = self.process.stdout.readline().strip()
        prefix = "lynchpin-server listening on "
        assert line.startswith(prefix), f"unexpected first line: {line!r}"
        self.url = "http://" + line[len(prefix):]

    def invite(self):
        """A one-time invite code, made with the admin command."""
        out = subprocess.run(
            [self.binary, "invite", "--data", self.data],
            check=True, capture_output=True, text=True,
        )
        return out.stdout.strip()

    def stop(self):
        self.process.kill()
        self.process.wait()


@pytest.fixture
def server(tmp_path):
    binary = os.environ.get("LYNCHPIN_SERVER")
    if not binary:
        pytest.fail("LYNCHPIN_SERVER must name the lynchpin-server binary")
    running = Server(binary, tmp_path / "relay")
    yield running
    running.stop()


@pytest.fixture
def path(tmp_path):
    """Makes store paths in a temporary folder."""
    return lambda name: str(tmp_path / f"{name}.lynchpin")
