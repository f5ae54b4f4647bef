"""Start an app factory in a uvicorn subprocess (browser tests and the benches)."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APP = "jeugdstem.asgi:create_app"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_uvicorn(
    port: int, env: Mapping[str, str], *options: str, factory: str = APP
) -> subprocess.Popen[bytes]:
    """``uvicorn <factory> --factory`` on ``port`` with warnings-only logs; the caller stops it."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            factory,
            "--factory",
            "--port",
            str(port),
            "--log-level",
            "warning",
            *options,
        ],
        cwd=ROOT,
        env=dict(env),
    )
