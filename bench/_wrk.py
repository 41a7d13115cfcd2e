"""One wrk run against a webhook: every request a resident's report, a unique MsgId, a URL signed now."""
from __future__ import annotations

import itertools
import re
import subprocess
import time
from pathlib import Path

from bot.devtools.wechat_push import sign

TOKEN = "benchtoken"
RESIDENTS = 5000  # senders o0 … o4999, the residents the bench binds to addresses
REPORT = "楼上漏水，顶棚一直滴水"

# Each wrk thread counts the replies that carry an answer (a text reply, not `success`); done() adds them up.
LUA = r"""
local threads = {}
counter = RUN_OFFSET
tid = 0
answers = 0
setup = function(thread) thread:set("tid", #threads); table.insert(threads, thread) end
request = function()
  counter = counter + 1
  local id = tid * 100000000 + counter
  -- the threads start half the residents apart: one resident's two messages rarely cross
  local resident = (counter + tid * HALF) % RESIDENTS
  local body = "<xml><ToUserName><![CDATA[gh_bench]]></ToUserName><FromUserName><![CDATA[o" .. resident ..
    "]]></FromUserName><CreateTime>CREATED</CreateTime><MsgType><![CDATA[text]]></MsgType>" ..
    "<Content><![CDATA[REPORT]]></Content><MsgId>" .. id .. "</MsgId></xml>"
  return wrk.format("POST", "PATH", {["Content-Type"] = "text/xml"}, body)
end
response = function(status, headers, body)
  if string.find(body, "<Content>", 1, true) then answers = answers + 1 end
end
done = function(summary, latency, requests)
  local n = 0
  for _, thread in ipairs(threads) do n = n + thread:get("answers") end
  io.write("Answered in the reply: " .. n .. "\n")
end
"""

_runs = itertools.count(1)


def signed_path() -> str:
    """A URL signed now: Mulin refuses timestamps more than five minutes old, and a round is shorter."""
    ts, nonce = str(int(time.time())), "12345"
    return f"/wechat?signature={sign(TOKEN, ts, nonce)}&timestamp={ts}&nonce={nonce}"


def script(workdir: Path) -> Path:
    """A fresh Lua script: signed now, and counters where no earlier run's MsgIds are."""
    run = next(_runs)
    values = {"PATH": signed_path(), "RUN_OFFSET": str(run * 1_000_000), "HALF": str(RESIDENTS // 2),
              "RESIDENTS": str(RESIDENTS), "CREATED": str(int(time.time())), "REPORT": REPORT}
    lua = LUA
    for name, value in values.items():
        lua = lua.replace(name, value)
    path = workdir / f"post-{run}.lua"
    path.write_text(lua, encoding="utf-8")
    return path


def _ms(out: str, label: str) -> float:
    found = re.search(rf"{label}%\s+([\d.]+)(us|ms|s)", out)
    if not found:
        raise RuntimeError(f"wrk printed no {label}% latency:\n{out}")
    value, unit = float(found.group(1)), found.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


def _count(out: str, pattern: str) -> int:
    found = re.search(pattern, out)
    return int(found.group(1)) if found else 0


def run(port: int, duration: str, workdir: Path, connections: int) -> dict[str, float]:
    """wrk -t2 for `duration`: req/s, p50 and p99 in ms, requests, non-2xx replies, timeouts, replies with an answer."""
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{duration}", "--latency", "-s", str(script(workdir)),
                          f"http://127.0.0.1:{port}/"], capture_output=True, text=True, check=True).stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not rps:
        raise RuntimeError(f"wrk printed no Requests/sec:\n{out}")
    return {"rps": float(rps.group(1)), "p50": _ms(out, "50"), "p99": _ms(out, "99"),
            "total": _count(out, r"(\d+) requests in"), "non2xx": _count(out, r"Non-2xx or 3xx responses: (\d+)"),
            "timeouts": _count(out, r"timeout (\d+)"),
            "answered": _count(out, r"Answered in the reply: (\d+)")}
