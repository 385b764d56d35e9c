"""A Ray head on this machine, on 127.0.0.1 only, for the tests, the benchmark and a demo.

``ray start --head --block`` runs as a child in its own session; stopping it (SIGTERM) stops
every Ray process it started and no other (``ray stop`` would stop every Ray process of the
user). Ray must never phone home: usage statistics are off, no dashboard, and
``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0`` makes Ray bind its servers to the loopback address
instead of the machine's network address.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOCAL_ENV = {"RAY_USAGE_STATS_ENABLED": "0", "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}
START_TIMEOUT = 90.0


class LocalRayError(RuntimeError):
    """The local Ray head did not start; the message says why in one line."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def ray_executable() -> str:
    """The ``ray`` command beside this Python (the virtual environment's), else on PATH."""
    beside = Path(sys.executable).with_name("ray")
    return str(beside) if beside.exists() else (shutil.which("ray") or "ray")


def head_command(port: int, temp_dir: str, num_cpus: int | None = None) -> list[str]:
    """The ``ray start`` command line of a loopback-only head on ``port``."""
    command = [ray_executable(), "start", "--head", "--block", "--node-ip-address=127.0.0.1",
               f"--port={port}", "--include-dashboard=false", "--disable-usage-stats",
               f"--temp-dir={temp_dir}"]
    if num_cpus is not None:
        command.append(f"--num-cpus={num_cpus}")
    return command


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


@contextmanager
def local_ray_head(num_cpus: int | None = None, *,
                   timeout: float = START_TIMEOUT) -> Iterator[str]:
    """Start a Ray head on a free 127.0.0.1 port, yield its address, stop it at the end."""
    os.environ.update(LOCAL_ENV)  # the driver, too, stays on the loopback address
    port = free_port()
    # short: Ray's socket paths must fit in 107 bytes
    temp_dir = tempfile.mkdtemp(prefix="pwray", dir="/tmp")
    log_path = Path(temp_dir) / "head.log"
    with log_path.open("wb") as log:
        head = subprocess.Popen(head_command(port, temp_dir, num_cpus),
                                env={**os.environ, **LOCAL_ENV}, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + timeout
        ready = Path(temp_dir) / "ray_current_cluster"
        while not (ready.exists() and _listening(port)):
            if head.poll() is not None:
                tail = log_path.read_text(errors="replace").strip().splitlines()[-1:]
                raise LocalRayError(f"ray start exited with {head.returncode}: "
                                    f"{tail[0] if tail else 'no output'}")
            if time.monotonic() > deadline:
                raise LocalRayError(f"Ray head not ready after {timeout:.0f}s (log: {log_path})")
            time.sleep(0.2)
        yield f"127.0.0.1:{port}"
    finally:
        stop_head(head)
        shutil.rmtree(temp_dir, ignore_errors=True)


def stop_head(head: subprocess.Popen[bytes], grace: float = 30.0) -> None:
    """Stop the head started by :func:`local_ray_head` and every process it started."""
    if head.poll() is None:
        head.send_signal(signal.SIGTERM)
        try:
            head.wait(grace)
        except subprocess.TimeoutExpired:
            os.killpg(head.pid, signal.SIGKILL)
            head.wait()
