"""`make run`: embedded Redis (unless REDIS_URL), the WeChat stand-in (demo), database with demo
data, the web app under gunicorn and the scheduler, all in one terminal."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from typing import Any

from bot.config import INSTANCE, load_config

PYTHON = sys.executable
BIN = os.path.dirname(PYTHON)
# How `python -m scheduler` is started (here, in the benches, in the README's units): glibc's per-thread malloc
# arenas otherwise let the scheduler's threads grow its memory slowly (README, figures).
SCHEDULER_ENV = {"MALLOC_ARENA_MAX": "2"}


def _wait_port(port: int, timeout: float = 15) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return True
        time.sleep(0.1)
    return False


def _lan_address() -> str:
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("10.255.255.255", 1))
            return str(s.getsockname()[0])
    except OSError:
        return "127.0.0.1"


def main() -> int:
    """Start everything, print where it is, stop everything on Ctrl-C."""
    env = dict(os.environ)
    port = int(env.get("MULIN_PORT", "8000"))
    standin_port = int(env.get("STANDIN_PORT", "8001"))
    children: list[subprocess.Popen[Any]] = []
    embedded = None
    if not env.get("REDIS_URL"):
        from bot.storage.redis_store import SHARED_URL, embedded_server, embedded_url

        embedded = embedded_server(INSTANCE / "redis.db")
        env["REDIS_URL"] = embedded_url(embedded)
        SHARED_URL.write_text(env["REDIS_URL"])  # so `flask --app bot …` in another terminal shares it
    demo = env.get("MULIN_ENV", "demo") != "production"
    if demo and not env.get("WECHAT_API_BASE_URL"):
        env["WECHAT_API_BASE_URL"] = f"http://127.0.0.1:{standin_port}/cgi-bin/"
        env.setdefault("TEMPLATE_IDS", "default=demo-template")
    os.environ.update(env)
    config = load_config()
    if demo and env["WECHAT_API_BASE_URL"] == f"http://127.0.0.1:{standin_port}/cgi-bin/":
        signer = {name: str(config[name]) for name in ("WECHAT_TOKEN", "WECHAT_APPID", "WECHAT_AES_KEY", "WECHAT_MODE")}
        children.append(subprocess.Popen([PYTHON, "-m", "bot.devtools.standin", "--port", str(standin_port),
                                          "--record", str(INSTANCE / "standin.jsonl"),
                                          "--receipts-to", f"http://127.0.0.1:{port}/wechat"],  # delivery receipts
                                         env={**env, **signer}))
    flask = [PYTHON, "-m", "flask", "--app", "bot"]
    subprocess.run(flask + ["init-db"], env=env, check=True)
    if demo:
        subprocess.run(flask + ["demo-data"], env=env, check=True)
    children.append(subprocess.Popen([os.path.join(BIN, "gunicorn"), "-w", env.get("WEB_WORKERS", "2"),
                                      "-b", f"0.0.0.0:{port}", "-c", "python:bot.web.gunicorn_conf", "--preload",
                                      "bot:create_app()"], env=env))
    children.append(subprocess.Popen([PYTHON, "-m", "scheduler"], env={**SCHEDULER_ENV, **env}))
    ok = _wait_port(port)
    host = _lan_address()
    print("\n" + "=" * 64)
    print("Mulin 睦邻 is running" + ("" if ok else " (web app did not answer yet; see the log above)"))
    print(f"  Webhook URL (服务器地址):   http://{host}:{port}/wechat")
    print(f"  Token (令牌):              {config['WECHAT_TOKEN']}")
    print(f"  EncodingAESKey:            {config['WECHAT_AES_KEY']}")
    print(f"  Staff console:             http://127.0.0.1:{port}/console")
    if demo:
        print(f"  Resident simulator:        http://127.0.0.1:{port}/console/simulator")
        print(f"  WeChat API stand-in:       {env['WECHAT_API_BASE_URL']}")
        print("  Demo console login:        admin / mulin-demo")
    print("  To connect a real official account, see README.md, 'Connecting a real official account'.")
    print("  Press Ctrl-C to stop.")
    print("=" * 64 + "\n", flush=True)
    stopping = False

    def stop(*_: Any) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while not stopping and all(child.poll() is None for child in children):
        time.sleep(0.5)
    for child in children:
        if child.poll() is None:
            child.terminate()
    for child in children:
        try:
            child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            child.kill()
    if embedded is not None:
        SHARED_URL.unlink(missing_ok=True)
        embedded.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
