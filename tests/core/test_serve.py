"""Daphne stopped with SIGTERM (``python -m apps.core.serve``) finishes the request in hand: it stops being
ready first, then stops listening, then exits once the request has been answered."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.live.server import free_port

ROOT = Path(__file__).resolve().parents[2]


def get(url: str, timeout: float = 10) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (our own http URL)
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_sigterm_drains_the_request_in_hand_then_exits(tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}}
    env.update(SQLITE_PATH=str(tmp_path / "db.sqlite3"), PYTHONPATH=str(ROOT), RATC_DRAIN_NOTICE_SECONDS="1",
               RATC_DRAIN_SECONDS="10", DJANGO_DEBUG="0", RATC_CHAIN_KEY_FILE=str(tmp_path / "chain.key"))  # fmt: skip
    server = subprocess.Popen(
        [sys.executable, "-m", "apps.core.serve", "-b", "127.0.0.1", "-p", str(port), "tests.core.slow_asgi:application"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if get(f"{base}/healthz", timeout=1)[0] == 200:
                    break
            except OSError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, server.stderr.read().decode()[
                -2000:
            ]
            time.sleep(0.2)
        assert get(f"{base}/readyz")[0] == 200

        answer: dict[str, object] = {}
        slow = threading.Thread(target=lambda: answer.update(reply=get(f"{base}/slow?seconds=3")))
        slow.start()
        time.sleep(0.5)  # the request is in hand
        server.send_signal(signal.SIGTERM)
        stopped_at = time.monotonic()
        time.sleep(0.2)
        status, body = get(f"{base}/readyz")  # within the notice: still answering, but not ready
        assert status == 503 and json.loads(body)["checks"]["serving"]["ok"] is False
        time.sleep(1.5)  # the notice is over: the listener is closed
        with socket.socket() as probe:
            probe.settimeout(2)
            assert probe.connect_ex(("127.0.0.1", port)) != 0
        slow.join(10)
        assert answer["reply"] == (200, b"done")  # the request in hand was answered, not cut
        assert server.wait(15) == 0
        assert time.monotonic() - stopped_at < 10
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
