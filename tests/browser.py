"""Shared set-up of the browser tests: the `jeugdstem demo` data served by uvicorn."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.servers import free_port, start_uvicorn

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-gpu"]
# `make screenshots` sets this to docs/screenshots; by default the tests leave the tree alone.
SCREENSHOTS = Path(
    os.environ.get("JEUGDSTEM_SCREENSHOTS") or tempfile.mkdtemp(prefix="jeugdstem-shots-")
)


@dataclass(frozen=True)
class DemoServer:
    """A running demo: its base URL and its database URL."""

    base: str
    database_url: str


@contextmanager
def demo_server(folder: Path, **env: str) -> Iterator[DemoServer]:
    """Seed the demo into a SQLite file in ``folder`` and serve it on a free port."""
    url = f"sqlite+aiosqlite:///{folder}/demo.db"
    subprocess.run(
        [sys.executable, "-m", "jeugdstem", "demo", "--no-serve", "--database-url", url],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    environ = dict(os.environ, DATABASE_URL=url, ADMIN_PUBLIC_BASE_URL=base, **env)
    proc = start_uvicorn(port, environ)
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}/chat/static/chat.css").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        else:
            pytest.fail("the demo server did not start")
        yield DemoServer(base, url)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
