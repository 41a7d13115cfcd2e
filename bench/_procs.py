"""Processes for the benches: free ports, servers started and waited for, paused, measured, stopped."""
from __future__ import annotations

import re
import signal
import socket
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout: float = 60, proc: subprocess.Popen[bytes] | None = None) -> None:
    """Until something accepts connections on the port; fails early when `proc` exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{proc.args!r} exited with {proc.returncode} before port {port} opened")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"port {port} did not open")


def start(args: Sequence[str], env: dict[str, str], cwd: Path, log: Path) -> subprocess.Popen[bytes]:
    """A process whose output goes to `log` (the bench's own output stays readable)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        return subprocess.Popen(list(args), cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)


def start_gunicorn(gunicorn: Path, app_spec: str, port: int, env: dict[str, str], cwd: Path, log: Path,
                   workers: int = 2, extra: Sequence[str] = ()) -> subprocess.Popen[bytes]:
    """gunicorn serving app_spec on 127.0.0.1:port, its workers booted, its output in `log`."""
    proc = start([str(gunicorn), "-w", str(workers), "-b", f"127.0.0.1:{port}", "--log-level", "warning",
                  "--preload", *extra, app_spec], env, cwd, log)
    wait_port(port, proc=proc)
    time.sleep(1.0)  # the master listens before every worker has forked
    return proc


def pause(procs: Sequence[subprocess.Popen[bytes]]) -> None:
    """SIGSTOP: a paused server costs a neighbour's round nothing."""
    for proc in procs:
        proc.send_signal(signal.SIGSTOP)


def resume(procs: Sequence[subprocess.Popen[bytes]]) -> None:
    """SIGCONT after pause()."""
    for proc in procs:
        proc.send_signal(signal.SIGCONT)


def stop(procs: Sequence[subprocess.Popen[bytes]]) -> None:
    """Resume (a stopped process ignores SIGTERM until then), terminate and reap each one."""
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGCONT)
            proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def rss_mb(pid: int) -> float | None:
    """A process's resident memory in MB (None once it is gone)."""
    try:
        found = re.search(r"VmRSS:\s+(\d+)", Path(f"/proc/{pid}/status").read_text())
    except FileNotFoundError:
        return None
    return int(found.group(1)) / 1024 if found else None


def children_rss_mb(master: int) -> list[float]:
    """Resident memory of a gunicorn master's workers, in MB."""
    kids = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout.split()
    return [size for size in map(rss_mb, map(int, kids)) if size is not None]
