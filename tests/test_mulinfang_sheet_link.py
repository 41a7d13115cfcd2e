"""The door sheet as a link (issue 15, item 2a): a group's cleanup notice carries a signed, expiring link to
that building's printable sheet, which opens without a console login; forged, altered, expired or other
buildings' tokens get a Chinese 403 page."""
from __future__ import annotations

import base64
import re
import zlib
from datetime import timedelta

from sqlalchemy import select

from bot.clock import fmt_local, utcnow
from bot.domain import mulinfang_sheets
from bot.storage.models import Building
from scheduler.runner import run_once
from tests.helpers_outreach import NOW, street, texts
from tests.test_qr_sheets import pages_with_images, pixels

BASE = "https://mulin.example.gov.cn"
LINK = re.compile(re.escape(BASE) + r"(/sheets/[A-Za-z0-9_.\-]+\.pdf)")


def pdf_text(pdf: bytes) -> str:
    """The text a PDF's pages draw in the CJK font (UTF-16BE literal strings), joined."""
    out = []
    for obj in re.findall(rb"stream\r?\n(.*?)endstream", pdf, re.S):
        data = obj.strip()
        try:
            data = zlib.decompress(base64.a85decode(data.removesuffix(b"~>")) if data.endswith(b"~>") else data)
        except (ValueError, zlib.error):
            continue
        for literal in re.findall(rb"\(((?:[^\\()]|\\.)*)\) Tj", data, re.S):
            raw = re.sub(rb"\\([0-7]{1,3}|.)", lambda m: bytes([int(m.group(1), 8)]) if m.group(1).isdigit()
                         else {b"n": b"\n", b"r": b"\r", b"t": b"\t"}.get(m.group(1), m.group(1)), literal)
            out.append(raw.decode("utf-16-be", errors="replace") if len(raw) % 2 == 0 else "")
    return "".join(out)


def _building(db, name: str) -> Building:  # type: ignore[no-untyped-def]
    return next(b for b in db.scalars(select(Building)) if b.name == name and b.compound.name == "和平里")


def _notice(runner) -> int:  # type: ignore[no-untyped-def]
    result = runner.invoke(args=["notice", "create", "--at", fmt_local(NOW + timedelta(hours=30)), "--text",
                                 "请将楼道内的自行车和纸箱搬回家中", "--compound", "和平里", "--buildings", "1,2"])
    assert result.exit_code == 0, result.output
    return int(result.output.strip().splitlines()[-1])


def _member(runner, openid: str, building: str, *extra: str) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(args=["mulinfang", "add", "--compound", "和平里", "--building", building, "--openid",
                                 openid, "--name", "赵大姐", "--role", "楼门长", *extra])
    assert result.exit_code == 0, result.output


def test_the_groups_notice_links_to_its_buildings_sheet_without_a_login(app, db, runner, client,  # type: ignore[no-untyped-def]
                                                                      standin) -> None:
    app.config["PUBLIC_BASE_URL"] = BASE
    street(db)
    _member(runner, "o-captain-1", "1", "--contact", "--phone", "13800001111")
    notice_id = _notice(runner)
    run_once(app, NOW)
    first = texts(standin, "o-captain-1")[0]
    assert "打印版（A4，带本楼二维码）" in first
    assert "和平里1号楼睦邻坊联系人：赵大姐（楼门长），电话 13800001111" in first  # on the door sheet's text
    found = LINK.search(first)
    assert found is not None
    res = client.get(found.group(1))  # a fresh client: no console session
    assert res.status_code == 200 and res.mimetype == "application/pdf"
    (page,) = pages_with_images(res.data)  # that building's page only
    assert pixels(standin.qr_images[f"building:{_building(db, '1').id}"]) in page
    shown = pdf_text(res.data)
    assert "和平里1号楼" in shown and "睦邻坊联系人：赵大姐" in shown  # the building's contact on the door sheet

    forged = found.group(1).replace(".pdf", "x.pdf")
    for path in (forged, "/sheets/not-a-token.pdf"):
        refused = client.get(path)
        assert refused.status_code == 403 and "链接已失效" in refused.get_data(as_text=True)
    secret = str(app.config["SECRET_KEY"])
    expired = mulinfang_sheets.make_token(secret, notice_id, _building(db, "1").id, utcnow() - timedelta(minutes=1))
    assert client.get(f"/sheets/{expired}.pdf").status_code == 403
    other = mulinfang_sheets.make_token(secret, notice_id, _building(db, "6").id, NOW + timedelta(days=9999))
    assert client.get(f"/sheets/{other}.pdf").status_code == 403  # 6号楼 is not in the notice
    wrong_key = mulinfang_sheets.make_token("another-key", notice_id, _building(db, "1").id, NOW + timedelta(days=9))
    assert client.get(f"/sheets/{wrong_key}.pdf").status_code == 403
    assert runner.invoke(args=["notice", "cancel", str(notice_id)]).exit_code == 0
    assert client.get(found.group(1)).status_code == 403  # a cancelled notice's sheet is not printed


def test_no_public_address_no_link(app, db, runner, standin) -> None:  # type: ignore[no-untyped-def]
    street(db)
    _member(runner, "o-captain-2", "2")
    _notice(runner)
    run_once(app, NOW)
    first = texts(standin, "o-captain-2")[0]
    assert "楼道清理通知" in first and "打印版" not in first and "/sheets/" not in first
