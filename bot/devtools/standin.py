"""A local stand-in for WeChat's API, for tests and the demo.

Answers the endpoints Mulin uses (token, custom send, template send and subscription notice
(message/subscribe/bizsend) with a msgid, user info, tags, media upload and media/get (a real JPEG, a real
AMR clip for a voice message, or for a video, as WeChat, JSON with a video_url serving a real MP4), permanent
QR codes and their images, the custom menu) like WeChat does, builds the delivery receipts WeChat would push
back (receipts, push_receipts), can return chosen errcodes, answer late (a send WeChat accepted whose answer
never arrived), run a test's step after the n-th send, and records every request.
Control endpoints under /_standin/ read the record and script failures.

Run: python -m bot.devtools.standin --port 8001 [--record FILE]
"""
from __future__ import annotations

import argparse
import hashlib
import io
import itertools
import json
import os
import secrets
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import requests
from PIL import Image
from reportlab.graphics.barcode import qrencoder

from bot.devtools import wechat_push

API = "/cgi-bin/"
SENDS = ("custom", "template", "subscribe")  # the kinds of request that deliver a message
QR_MODULE_PX, QR_BORDER = 4, 4  # pixels per module; quiet zone in modules


class StandIn:
    """The stand-in's state: issued tokens, scripted errors, recorded requests."""

    def __init__(self, record: Path | None = None, receipts_to: tuple[str, wechat_push.Pusher] | None = None,
                 receipt_delay: float = 2.0) -> None:
        self.lock = threading.Lock()
        # (webhook URL, signer): push each template message's / subscription notice's receipt back (the demo)
        self.receipts_to = receipts_to
        self.receipt_delay = receipt_delay
        self.tokens: set[str] = set()
        self.requests: list[dict[str, Any]] = []
        self.errors: list[dict[str, Any]] = []  # {"path", "errcode", "times", "openid"}
        self.delays: list[dict[str, Any]] = []  # {"path", "seconds", "times"}
        self.hooks: list[tuple[int, Callable[[], None]]] = []  # (n-th successful send, action)
        self.record = record.open("a", encoding="utf-8") if record else None
        self.msgids = itertools.count(1000)
        self.tags: dict[int, str] = {}
        self.qr_scenes: dict[str, str] = {}  # ticket -> scene string
        self.qr_images: dict[str, bytes] = {}  # scene string -> the PNG showqrcode serves
        self.menu: dict[str, Any] | None = None
        self.media: dict[str, tuple[bytes, str]] = {}  # media_id -> (bytes, Content-Type) media/get serves
        self.server: ThreadingHTTPServer | None = None

    # -- scripting, for tests -------------------------------------------------
    def fail(self, errcode: int, path: str = "", times: int = 1, openid: str | None = None) -> None:
        """Answer the next `times` requests to path (suffix match) with errcode."""
        with self.lock:
            self.errors.append({"path": path, "errcode": errcode, "times": times, "openid": openid})

    def delay(self, seconds: float, path: str = "", times: int = 1) -> None:
        """Handle the next `times` requests to path normally (recorded, sent) but answer `seconds` late."""
        with self.lock:
            self.delays.append({"path": path, "seconds": seconds, "times": times})

    def on_sent(self, count: int, action: Callable[[], None]) -> None:
        """Run action once the count-th message has been sent, before that send is answered."""
        with self.lock:
            self.hooks.append((count, action))

    def _late(self, path: str) -> float:
        endpoint = path[len(API):] if path.startswith(API) else path.lstrip("/")
        with self.lock:
            for rule in self.delays:
                if rule["times"] > 0 and endpoint.endswith(rule["path"]):
                    rule["times"] -= 1
                    return float(rule["seconds"])
        return 0.0

    def _after_send(self) -> None:
        with self.lock:
            count = len([r for r in self.requests if r.get("errcode") == 0 and r["kind"] in SENDS])
            due = [hook for hook in self.hooks if hook[0] == count]
            self.hooks = [hook for hook in self.hooks if hook[0] != count]
        for _, action in due:
            action()

    def expire_tokens(self) -> None:
        """Invalidate every issued access_token (the next call gets 40001)."""
        with self.lock:
            self.tokens.clear()

    def sent(self, kind: str | None = None) -> list[dict[str, Any]]:
        """Recorded successful message sends (custom, template or subscription notice), optionally of one kind."""
        with self.lock:
            rows = [r for r in self.requests if r.get("errcode") == 0 and r["kind"] in SENDS]
        return [r for r in rows if kind is None or r["kind"] == kind]

    def receipts(self, status: str = "success", openid: str | None = None) -> list[str]:
        """The receipt events WeChat would push for every template message and subscription notice sent
        (to `openid` only, if given): TEMPLATESENDJOBFINISH / subscribe_msg_sent_event with this status
        ("success", "failed:user block", "failed: system failed"), as XML for the webhook."""
        return [wechat_push.receipt_xml(r["openid"], r["kind"], r["msgid"], status, r["body"].get("template_id"))
                for r in self.sent() if r["kind"] in ("template", "subscribe") and openid in (None, r["openid"])]

    def push_receipts(self, webhook: str, pusher: wechat_push.Pusher, status: str = "success",
                      openid: str | None = None) -> int:
        """POST the receipt events (see receipts) to a running Mulin's /wechat, signed like WeChat (the demo)."""
        pushed = 0
        for xml in self.receipts(status, openid):
            query, data = pusher.request(xml)
            requests.post(webhook, params=query, data=data, headers={"Content-Type": "text/xml"}, timeout=5)
            pushed += 1
        return pushed

    def _push_later(self, entry: dict[str, Any]) -> None:
        """The demo: WeChat's receipt (success) arrives a moment after the send, as on a real account."""
        assert self.receipts_to is not None
        time.sleep(self.receipt_delay)
        webhook, pusher = self.receipts_to
        xml = wechat_push.receipt_xml(entry["openid"], entry["kind"], entry["msgid"], "success",
                                      entry["body"].get("template_id"))
        query, data = pusher.request(xml)
        try:
            requests.post(webhook, params=query, data=data, headers={"Content-Type": "text/xml"}, timeout=5)
        except requests.RequestException:
            pass  # Mulin is not up (yet): WeChat would give up too

    def requests_to(self, endpoint: str) -> list[dict[str, Any]]:
        """Recorded requests to one endpoint (e.g. "menu/create"), oldest first."""
        with self.lock:
            return [r for r in self.requests if r["path"] == endpoint]

    # -- the API ---------------------------------------------------------------
    def _scripted(self, path: str, openid: str | None) -> int | None:
        for rule in self.errors:
            if rule["times"] > 0 and path.endswith(rule["path"]) and rule["openid"] in (None, openid):
                rule["times"] -= 1
                return int(rule["errcode"])
        return None

    def answer(self, method: str, path: str, query: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        """WeChat's answer to one request; records it."""
        endpoint = path[len(API):] if path.startswith(API) else path.lstrip("/")
        kind = {"message/custom/send": "custom", "message/template/send": "template",
                "message/subscribe/bizsend": "subscribe", "token": "token"}.get(endpoint, endpoint)
        openid = body.get("touser") or query.get("openid")
        with self.lock:
            errcode = self._scripted(endpoint, openid)
            result: dict[str, Any]
            if errcode is not None:
                result = {"errcode": errcode, "errmsg": f"scripted error {errcode}"}
            elif endpoint == "token":
                token = secrets.token_hex(16)
                self.tokens.add(token)
                result = {"access_token": token, "expires_in": 7200}
            elif query.get("access_token") not in self.tokens:
                result = {"errcode": 40001, "errmsg": "invalid credential, access_token is invalid or not latest"}
            else:
                result = self._ok(endpoint, query, body)
            entry = {"t": time.time(), "method": method, "kind": kind, "path": endpoint,
                     "openid": openid, "body": body, "errcode": result.get("errcode", 0)}
            if "msgid" in result:
                entry["msgid"] = result["msgid"]
            self.requests.append(entry)
            if self.receipts_to and "msgid" in result and kind in ("template", "subscribe"):
                threading.Thread(target=self._push_later, args=(entry,), daemon=True).start()
            if self.record:
                self.record.write(json.dumps(entry, ensure_ascii=False) + "\n")
                self.record.flush()
        return result

    def _ok(self, endpoint: str, query: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        if endpoint in ("message/template/send", "message/subscribe/bizsend"):
            return {"errcode": 0, "errmsg": "ok", "msgid": next(self.msgids)}
        if endpoint == "user/info":
            return {"subscribe": 1, "openid": query.get("openid"), "language": "zh_CN",
                    "subscribe_time": int(time.time()), "tagid_list": []}
        if endpoint == "tags/create":
            tag_id = 100 + len(self.tags)
            self.tags[tag_id] = body.get("tag", {}).get("name", "")
            return {"tag": {"id": tag_id, "name": self.tags[tag_id]}}
        if endpoint == "tags/get":
            return {"tags": [{"id": k, "name": v, "count": 0} for k, v in self.tags.items()]}
        if endpoint == "qrcode/create":
            return self._qrcode(body)
        if endpoint == "menu/create":
            self.menu = body
            return {"errcode": 0, "errmsg": "ok"}
        if endpoint == "menu/get":
            return {"menu": self.menu} if self.menu else {"errcode": 46003, "errmsg": "menu no exist"}
        if endpoint == "media/get":
            return {"errcode": 0, "media_id": query.get("media_id", "")}  # the file itself: StandIn.media_file
        if endpoint == "media/upload":
            return {"type": query.get("type", "image"), "media_id": secrets.token_hex(8),
                    "created_at": int(time.time())}
        return {"errcode": 0, "errmsg": "ok"}

    def _qrcode(self, body: dict[str, Any]) -> dict[str, Any]:
        """A permanent QR code: the same scene always gets the same ticket, like WeChat's (a temporary one,
        QR_STR_SCENE, too: the stand-in never expires it)."""
        scene = str(body.get("action_info", {}).get("scene", {}).get("scene_str") or "")
        if body.get("action_name") not in ("QR_LIMIT_STR_SCENE", "QR_STR_SCENE") or not 1 <= len(scene) <= 64:
            return {"errcode": 40053, "errmsg": "invalid action info"}
        ticket = "gQ" + hashlib.sha256(scene.encode("utf-8")).hexdigest()[:30]
        url = f"http://weixin.qq.com/q/{ticket}"
        if ticket not in self.qr_scenes:
            self.qr_scenes[ticket] = scene
            self.qr_images[scene] = _qr_png(url)
        return {"ticket": ticket, "url": url}

    def is_video(self, media_id: str) -> bool:
        """Whether a MediaId is a video's (one a test registered as video/mp4, or "video" in it): media/get then
        answers JSON with a download URL, as WeChat does for videos."""
        with self.lock:
            if media_id in self.media:
                return self.media[media_id][1].startswith("video/")
        return "video" in media_id.lower()

    def media_file(self, media_id: str) -> tuple[bytes, str]:
        """What media/get serves for a MediaId: one a test registered in `media`, else a real small AMR clip
        for an id that names a voice message ("voice" in it), a real small MP4 for a video ("video" in it),
        else a real small JPEG."""
        with self.lock:
            if media_id in self.media:
                return self.media[media_id]
        if "video" in media_id.lower():
            return VIDEO_CLIP.read_bytes(), "video/mp4"
        if "voice" in media_id.lower():
            return VOICE_CLIP.read_bytes(), "audio/amr"
        return _jpeg(media_id), "image/jpeg"

    def show_qrcode(self, query: dict[str, str]) -> bytes | None:
        """The PNG of a ticket (None: unknown ticket); recorded like the API calls."""
        with self.lock:
            scene = self.qr_scenes.get(query.get("ticket", ""))
            self.requests.append({"t": time.time(), "method": "GET", "kind": "showqrcode", "path": "showqrcode",
                                  "openid": None, "body": {"ticket": query.get("ticket"), "scene": scene},
                                  "errcode": 0 if scene else 404})
            return self.qr_images[scene] if scene else None

    # -- serving ---------------------------------------------------------------
    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve in a background thread; returns the base URL to use as WECHAT_API_BASE_URL."""
        self.server = ThreadingHTTPServer((host, port), _handler_for(self))
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return f"http://{host}:{self.server.server_address[1]}{API}"

    def stop(self) -> None:
        """Stop serving."""
        if self.server:
            self.server.shutdown()
            self.server.server_close()


def _handler_for(state: StandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out as two writes: without TCP_NODELAY, Nagle's algorithm and the
        # client's delayed ACK add ~40 ms to every keep-alive request.
        disable_nagle_algorithm = True

        def log_message(self, *args: Any) -> None:  # quiet: the record is the log
            pass

        def _reply(self, payload: Any) -> None:
            data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
            try:
                self.send_response(200)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):  # the caller stopped waiting (a late answer)
                self.close_connection = True

        def _image(self, png: bytes | None, content_type: str = "image/png") -> None:
            self.send_response(200 if png else 404)
            self.send_header("Content-Type", content_type if png else "text/plain")
            self.send_header("Content-Length", str(len(png or b"")))
            self.end_headers()
            self.wfile.write(png or b"")

        def _handle(self, method: str) -> None:
            url = urlparse(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw.decode("utf-8")) if raw else {}
            except ValueError:
                body = {}
            if url.path.startswith("/_standin/"):
                self._reply(_control(state, url.path, query, body))
                return
            if url.path == API + "showqrcode":
                self._image(state.show_qrcode(query))
                return
            if url.path.startswith(VIDEO_PATH):  # a video's download URL (what media/get answered for it)
                self._image(*state.media_file(url.path[len(VIDEO_PATH):].removesuffix(".mp4")))
                return
            answer = state.answer(method, url.path, query, body)
            if url.path == API + "media/get" and answer.get("errcode") == 0:
                media_id = str(answer["media_id"])
                if state.is_video(media_id):  # as WeChat: JSON naming where to download the video
                    self._reply({"video_url": f"http://{self.headers.get('Host')}{VIDEO_PATH}{media_id}.mp4"})
                    return
                self._image(*state.media_file(media_id))
                return
            state._after_send()
            late = state._late(url.path)
            if late:
                time.sleep(late)  # already recorded as sent: the caller times out, the message went out
            self._reply(answer)

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            self._handle("GET")

        def do_POST(self) -> None:  # noqa: N802
            self._handle("POST")

    return Handler


VOICE_CLIP = Path(__file__).parent / "demo_data" / "voice.amr"  # 1.2 s of a 440 Hz tone, AMR-NB 12.2 kbit/s
VIDEO_CLIP = Path(__file__).parent / "demo_data" / "video.mp4"  # 1 s of ffmpeg's test pattern, H.264 96x64
VIDEO_PATH = "/mmbiz-video/"  # where the stand-in serves the videos media/get points to


def _jpeg(seed: str) -> bytes:
    """A real small JPEG (a colour picked from the media id, with a darker band), what a phone photo stands for."""
    digest = hashlib.sha256(seed.encode("utf-8")).digest()
    image = Image.new("RGB", (96, 64), (digest[0], digest[1], digest[2]))
    image.paste((digest[0] // 3, digest[1] // 3, digest[2] // 3), (0, 40, 96, 64))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


def _qr_png(text: str) -> bytes:
    """A real QR code of text as a small greyscale PNG (what showqrcode returns)."""
    code = qrencoder.QRCode(None, qrencoder.QRErrorCorrectLevel.M)
    code.addData(text)
    code.make()
    count = code.getModuleCount()
    side = (count + 2 * QR_BORDER) * QR_MODULE_PX
    image = Image.new("L", (side, side), 255)
    for row in range(count):
        for col in range(count):
            if code.isDark(row, col):
                x, y = (col + QR_BORDER) * QR_MODULE_PX, (row + QR_BORDER) * QR_MODULE_PX
                image.paste(0, (x, y, x + QR_MODULE_PX, y + QR_MODULE_PX))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _control(state: StandIn, path: str, query: dict[str, str], body: dict[str, Any]) -> Any:
    if path == "/_standin/requests":
        since = int(query.get("since", 0))
        with state.lock:
            return {"total": len(state.requests), "requests": state.requests[since:]}
    if path == "/_standin/fail":
        state.fail(int(body["errcode"]), body.get("path", ""), int(body.get("times", 1)), body.get("openid"))
        return {"ok": True}
    if path == "/_standin/delay":
        state.delay(float(body["seconds"]), body.get("path", ""), int(body.get("times", 1)))
        return {"ok": True}
    if path == "/_standin/expire_tokens":
        state.expire_tokens()
        return {"ok": True}
    return {"error": "unknown control endpoint"}


def main() -> None:
    """Command-line entry: serve until interrupted."""
    parser = argparse.ArgumentParser(description="Local stand-in for WeChat's API")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--record", type=Path)
    parser.add_argument("--receipts-to", help=(
        "Mulin's webhook URL: push a delivery receipt (success) back for each template message and subscription "
        "notice, signed with WECHAT_TOKEN, WECHAT_APPID, WECHAT_AES_KEY and WECHAT_MODE from the environment"))
    args = parser.parse_args()
    receipts_to = None
    if args.receipts_to:
        pusher = wechat_push.Pusher(os.environ["WECHAT_TOKEN"], os.environ["WECHAT_APPID"],
                                    os.environ.get("WECHAT_AES_KEY", ""), os.environ.get("WECHAT_MODE") or "safe")
        receipts_to = (args.receipts_to, pusher)
    state = StandIn(args.record, receipts_to)
    print(f"WeChat stand-in at {state.start(args.host, args.port)}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        state.stop()


if __name__ == "__main__":
    main()
