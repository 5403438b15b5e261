"""The shop served by a real gunicorn on 127.0.0.1 for tests that need real HTTP, real worker
processes or a real browser (tests/test_faults.py, tests/test_journeys.py).

Bounded: waits at most 30 s for ``/healthz``; always stops the server (SIGTERM, then SIGKILL after
15 s) when the ``with`` block ends, whatever happened inside.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def gunicorn(folder: Path, app_config: dict, *, workers: int = 2, timeout: int = 30):
    """Serve ``create_app(TestingConfig, **app_config)`` with gunicorn; yields (base URL, master).

    ``folder`` receives the small WSGI module gunicorn imports. Raises RuntimeError (with
    gunicorn's own words) when the server does not answer ``/healthz`` within 30 s.
    """
    port = free_port()
    (folder / "test_server_wsgi.py").write_text(
        "from config import TestingConfig\nfrom shop import create_app\n"
        f"app = create_app(TestingConfig, **{app_config!r})\n", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{folder}"}
    master = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
         "--timeout", str(timeout), "--graceful-timeout", "5", "test_server_wsgi:app"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline or master.poll() is not None:
                raise RuntimeError("gunicorn did not start: " + master.stderr.read(4000).decode(errors="replace"))
            time.sleep(0.2)
        yield base, master
    finally:
        master.send_signal(signal.SIGTERM)
        try:
            master.wait(timeout=15)
        except subprocess.TimeoutExpired:
            master.kill()
            master.wait(timeout=5)
