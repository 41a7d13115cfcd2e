"""The peer's own virtualenv (bench/requirements.txt), made once under bench/results/ and kept."""
from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REQUIREMENTS = BENCH / "requirements.txt"
VENV = BENCH / "results" / "werobot-venv"


def peer_venv() -> Path:
    """The bin/ folder of a virtualenv with WeRoBot and gunicorn, installed from PyPI when missing or stale."""
    stamp = VENV / ".installed"
    wanted = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    if not stamp.exists() or stamp.read_text() != wanted:
        print(f"installing the peer into {VENV.relative_to(BENCH.parent)} (once) …", flush=True)
        # the interpreter Mulin's venv was made from, so the peer runs on the same Python
        base = Path(sys.base_prefix) / "bin" / "python3"
        subprocess.run([str(base), "-m", "venv", "--clear", str(VENV)], check=True)
        subprocess.run([str(VENV / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                        "-r", str(REQUIREMENTS)], check=True)
        stamp.write_text(wanted)
    return VENV / "bin"
