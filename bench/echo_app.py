"""The textbook Flask + wechatpy echo webhook (stores nothing): the baseline for webhook_bench."""
from __future__ import annotations

import os

from flask import Flask, abort, request
from wechatpy import parse_message
from wechatpy.exceptions import InvalidSignatureException
from wechatpy.replies import create_reply
from wechatpy.utils import check_signature


def create_app() -> Flask:
    """An echo webhook: verify, parse, reply with the same text."""
    app = Flask(__name__)
    token = os.environ.get("WECHAT_TOKEN", "benchtoken")

    @app.route("/wechat", methods=["GET", "POST"])
    def wechat() -> str:
        try:
            check_signature(token, request.args.get("signature", ""), request.args.get("timestamp", ""),
                            request.args.get("nonce", ""))
        except InvalidSignatureException:
            abort(403)
        if request.method == "GET":
            return request.args.get("echostr", "")
        msg = parse_message(request.data)
        return str(create_reply(msg.content if msg.type == "text" else "success", msg).render())

    return app
