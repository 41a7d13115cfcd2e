"""A throwaway PostgreSQL cluster for the bench: initdb in a temp dir, on a free port on 127.0.0.1."""
from __future__ import annotations

import glob
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from bench._procs import free_port, stop, wait_port


def server_bin() -> Path | None:
    """The newest installed server's bin/ (Debian's postgresql package), or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=lambda p: int(Path(p).parts[4]))
    return Path(found[-1]).parent if found else None


class Cluster:
    """initdb + postgres as an ordinary user (PostgreSQL refuses to run as root); trust auth on 127.0.0.1."""

    def __init__(self, bindir: Path) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="mulin-bench-pg-"))
        self.port = free_port()
        as_user = ["runuser", "-u", "nobody", "--"] if os.geteuid() == 0 else []
        if as_user:
            shutil.chown(self.dir, "nobody")
        data = self.dir / "data"
        subprocess.run([*as_user, str(bindir / "initdb"), "-D", str(data), "-U", "mulin", "--auth=trust", "-E", "UTF8",
                        "--no-sync"], check=True, stdout=subprocess.DEVNULL)
        self.proc = subprocess.Popen([*as_user, str(bindir / "postgres"), "-D", str(data), "-p", str(self.port),
                                      "-h", "127.0.0.1", "-k", str(self.dir), "-c", "max_connections=200"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.port, proc=self.proc)
        self.version = bindir.parts[4]

    def database(self, name: str, template: str = "template0") -> str:
        """A new database, a copy of `template` (default: empty); its SQLAlchemy URL."""
        import psycopg2

        for _ in range(100):  # the port opens a moment before the server takes connections
            try:
                conn = psycopg2.connect(host="127.0.0.1", port=self.port, user="mulin", dbname="postgres")
                break
            except psycopg2.OperationalError:
                time.sleep(0.1)
        else:
            raise RuntimeError("the PostgreSQL cluster took no connections")
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        conn.close()
        return f"postgresql+psycopg2://mulin@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        """Stop the server (fast shutdown: open sessions are ended) and remove the cluster."""
        pidfile = self.dir / "data" / "postmaster.pid"
        if pidfile.exists():
            os.kill(int(pidfile.read_text().split()[0]), signal.SIGINT)
        stop([self.proc])
        shutil.rmtree(self.dir, ignore_errors=True)
