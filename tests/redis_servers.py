"""redis-server processes of a test's own, on free ports, for the test to stop (never the machine's)."""

import socket
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import redis


@contextmanager
def redis_server(binary: Path | str, directory: Path):
    """Run `binary` on a free port with its files in `directory`; yields its url and a stop()."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([str(binary), "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                               "--appendonly", "no", "--dir", str(directory)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.monotonic() + 10
    while True:
        try:
            redis.Redis.from_url(url).ping()
            break
        except redis.ConnectionError:
            assert server.poll() is None and time.monotonic() < deadline, f"{binary} did not start"
            time.sleep(0.05)

    def stop():
        server.terminate()
        server.wait(timeout=10)

    try:
        yield SimpleNamespace(url=url, stop=stop)
    finally:
        if server.poll() is None:
            stop()
