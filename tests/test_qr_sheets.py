"""Building QR codes, unit-door sheets and scanning: through the CLI, the stand-in and the signed webhook."""
from __future__ import annotations

import base64
import io
import re
import time
import zlib
from pathlib import Path

from PIL import Image
from sqlalchemy import select

from bot.storage.models import Building, Case, Resident
from tests.helpers_outreach import NOW, street


def _building(db, name: str, compound: str = "和平里") -> Building:  # type: ignore[no-untyped-def]
    return next(b for b in db.scalars(select(Building)) if b.name == name and b.compound.name == compound)


def _scene(building: Building) -> str:
    return f"building:{building.id}"


def _objects(pdf: bytes) -> dict[int, bytes]:
    return {int(m.group(1)): m.group(2) for m in re.finditer(rb"(\d+) 0 obj\s(.*?)endobj", pdf, re.S)}


def _stream(obj: bytes) -> bytes:
    """An image stream decoded: ReportLab writes [/ASCII85Decode /FlateDecode]."""
    data = obj.split(b"stream", 1)[1].rsplit(b"endstream", 1)[0].strip()
    if b"/ASCII85Decode" in obj:
        data = base64.a85decode(data.removesuffix(b"~>"))
    return zlib.decompress(data) if b"/FlateDecode" in obj else data


def pages_with_images(pdf: bytes) -> list[list[bytes]]:
    """Each page (in reading order) with the decoded pixels of the images it draws."""
    objs = _objects(pdf)
    tree = next(o for o in objs.values() if re.search(rb"/Type /Pages\b", o))
    kids = [int(n) for n in re.findall(rb"(\d+) 0 R", tree.split(b"/Kids", 1)[1].split(b"]", 1)[0])]
    return [[_stream(objs[int(n)]) for n in re.findall(rb"/FormXob\.\w+ (\d+) 0 R", objs[kid])] for kid in kids]


def pixels(png: bytes) -> bytes:
    """A PNG's greyscale pixels, as the PDF carries them."""
    return Image.open(io.BytesIO(png)).convert("L").tobytes()


def test_qr_command_saves_one_permanent_code_per_building(runner, db, standin, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    street(db)
    result = runner.invoke(args=["qr", "--compound", "和平里", "--out", str(tmp_path / "qr")])
    assert result.exit_code == 0, result.output
    assert "已保存 3 个楼栋二维码" in result.output
    creates = standin.requests_to("qrcode/create")
    assert [r["body"]["action_name"] for r in creates] == ["QR_LIMIT_STR_SCENE"] * 3
    scenes = [r["body"]["action_info"]["scene"]["scene_str"] for r in creates]
    assert scenes == [_scene(_building(db, name)) for name in ("1", "2", "6")]
    for name in ("1", "2", "6"):
        saved = (tmp_path / "qr" / f"和平里-{name}.png").read_bytes()
        assert saved == standin.qr_images[_scene(_building(db, name))]
        assert Image.open(io.BytesIO(saved)).format == "PNG"


def test_qr_command_for_one_building_and_unknown_names(runner, db, standin, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    street(db)
    result = runner.invoke(args=["qr", "--compound", "和平里", "--building", "6", "--out", str(tmp_path / "qr")])
    assert result.exit_code == 0, result.output
    assert [p.name for p in (tmp_path / "qr").iterdir()] == ["和平里-6.png"]
    missing = runner.invoke(args=["qr", "--compound", "和平里", "--building", "9", "--out", str(tmp_path)])
    assert missing.exit_code != 0 and "操作未完成" in missing.output
    assert runner.invoke(args=["qr", "--compound", "无此小区", "--out", str(tmp_path)]).exit_code != 0


def test_qr_command_reports_wechat_errors(runner, db, standin, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    street(db)
    standin.fail(45009, path="qrcode/create")
    result = runner.invoke(args=["qr", "--compound", "和平里", "--out", str(tmp_path)])
    assert result.exit_code != 0 and "45009" in result.output


def _notice(runner, *args: str) -> int:  # type: ignore[no-untyped-def]
    at = (NOW.replace(hour=1)).strftime("%Y-%m-%d 09:00")
    result = runner.invoke(args=["notice", "create", *args, "--at", at, "--text", "请清理楼道内自行车和杂物 & 纸箱"])
    assert result.exit_code == 0, result.output
    return int(result.output.strip().splitlines()[-1])


def test_sheet_has_one_page_per_building_with_its_qr_code(runner, db, standin, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    street(db, buildings=("1", "2", "6", "10"))
    notice_id = _notice(runner, "--compound", "和平里", "--buildings", "10,1,6")
    out = tmp_path / "sheets.pdf"
    result = runner.invoke(args=["notice", "sheet", str(notice_id), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "3 页" in result.output
    pdf = out.read_bytes()
    assert pdf.startswith(b"%PDF") and b"/MediaBox [ 0 0 595.2756 841.8898 ]" in pdf  # A4
    assert b"/BaseFont /STSong-Light" in pdf
    pages = pages_with_images(pdf)
    assert len(pages) == 3
    for page, name in zip(pages, ("1", "6", "10"), strict=True):
        assert page == [pixels(standin.qr_images[_scene(_building(db, name))])]


def test_sheet_for_a_community_covers_every_building_and_long_texts_stay_one_page(runner, db, standin,  # type: ignore[no-untyped-def]
                                                                                  tmp_path: Path) -> None:
    street(db, buildings=("1", "2"))
    street(db, buildings=("3",), compound="安宁里")
    at = NOW.strftime("%Y-%m-%d 09:00")
    long_text = "请各位居民在清理前把楼道里的自行车、纸箱和杂物搬走，" * 40
    result = runner.invoke(args=["notice", "create", "--community", "和平社区", "--at", at, "--text", long_text])
    notice_id = int(result.output.strip().splitlines()[-1])
    out = tmp_path / "all.pdf"
    assert runner.invoke(args=["notice", "sheet", str(notice_id), "--out", str(out)]).exit_code == 0
    pages = pages_with_images(out.read_bytes())
    expected = [_building(db, "1"), _building(db, "2"), _building(db, "3", "安宁里")]  # by compound, then building
    assert pages == [[pixels(standin.qr_images[_scene(b)])] for b in expected]


def test_no_sheet_for_an_unknown_or_cancelled_notice(runner, db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(args=["notice", "sheet", "999", "--out", str(tmp_path / "x.pdf")])
    assert result.exit_code != 0 and "操作未完成" in result.output
    street(db)
    notice_id = _notice(runner, "--compound", "和平里")
    assert runner.invoke(args=["notice", "cancel", str(notice_id)]).exit_code == 0
    cancelled = runner.invoke(args=["notice", "sheet", str(notice_id), "--out", str(tmp_path / "x.pdf")])
    assert cancelled.exit_code != 0 and "cancelled" in cancelled.output
    assert not (tmp_path / "x.pdf").exists()


def _resident(db, openid: str) -> Resident | None:  # type: ignore[no-untyped-def]
    db.expire_all()
    return db.scalars(select(Resident).where(Resident.openid == openid)).one_or_none()


def test_subscribing_by_a_building_code_binds_the_resident(wechat, db) -> None:  # type: ignore[no-untyped-def]
    street(db)
    six = _building(db, "6")
    reply = wechat.event("subscribe", openid="new-1", EventKey=f"qrscene_{_scene(six)}", Ticket="gQ1")
    assert "欢迎关注" in reply.text and "已登记您的地址：和平里6号楼" in reply.text
    resident = _resident(db, "new-1")
    assert (resident.compound_id, resident.building_id) == (six.compound_id, six.id)
    report = wechat.send_text("楼道里堆满了杂物", openid="new-1")
    assert "请告诉我们您的地址" not in report.text
    case = db.scalars(select(Case).where(Case.openid == "new-1")).one()
    assert case.building_id == six.id


def test_a_follower_scanning_a_building_code_is_bound(wechat, db) -> None:  # type: ignore[no-untyped-def]
    street(db)
    two = _building(db, "2")
    now = int(time.time())
    wechat.event("subscribe", openid="f-1", create_time=now)
    reply = wechat.event("SCAN", openid="f-1", EventKey=_scene(two), Ticket="gQ2", create_time=now)
    assert reply.text.startswith("已登记您的地址：和平里2号楼")
    assert _resident(db, "f-1").building_id == two.id
    again = wechat.event("SCAN", openid="f-1", EventKey=_scene(two), Ticket="gQ2", create_time=now + 1)
    assert "您已登记为和平里2号楼的居民" in again.text


def test_scanning_another_buildings_code_never_overwrites_the_address(wechat, db) -> None:  # type: ignore[no-untyped-def]
    street(db)
    one, six = _building(db, "1"), _building(db, "6")
    wechat.event("subscribe", openid="m-1", EventKey=f"qrscene_{_scene(one)}")
    reply = wechat.event("SCAN", openid="m-1", EventKey=_scene(six))
    assert "和平里6号楼的二维码" in reply.text and "修改地址" in reply.text
    assert _resident(db, "m-1").building_id == one.id


def test_a_report_waiting_for_its_address_opens_when_the_code_is_scanned(wechat, db) -> None:  # type: ignore[no-untyped-def]
    street(db)
    six = _building(db, "6")
    asked = wechat.send_text("楼上漏水，顶棚一直滴水", openid="w-1")
    assert "地址" in asked.text
    assert db.scalars(select(Case).where(Case.openid == "w-1")).all() == []
    reply = wechat.event("SCAN", openid="w-1", EventKey=_scene(six))
    assert "已登记您的地址：和平里6号楼" in reply.text
    db.expire_all()
    case = db.scalars(select(Case).where(Case.openid == "w-1")).one()
    assert (case.building_id, case.intent) == (six.id, "leak")
    assert case.number in reply.text


def test_an_unknown_building_scene_is_only_a_welcome(wechat, db) -> None:  # type: ignore[no-untyped-def]
    reply = wechat.event("subscribe", openid="u-1", EventKey="qrscene_building:424242")
    assert "欢迎关注" in reply.text and "已登记" not in reply.text
    assert _resident(db, "u-1").building_id is None


def test_the_console_notice_page_offers_the_sheets(client, db, standin) -> None:  # type: ignore[no-untyped-def]
    from tests.helpers_console import Console, add_user

    street(db, buildings=("1", "2"))
    add_user(db, "printer", role="admin")
    console = Console(client)
    console.login("printer", "secret-pass-1")
    at = (NOW.replace(second=0, microsecond=0)).strftime("%Y-%m-%dT%H:%M")
    created = console.post("/console/notices", compound="和平里", buildings="2", community="", cleanup_at=at,
                           text="请搬走楼道杂物")
    notice_id = int(created.headers["Location"].rsplit("/", 1)[1])
    page = console.page(f"/console/notices/{notice_id}")
    assert f'href="/console/notices/{notice_id}/sheet.pdf"' in page
    res = client.get(f"/console/notices/{notice_id}/sheet.pdf")
    assert res.status_code == 200 and res.mimetype == "application/pdf"
    assert "attachment" in res.headers["Content-Disposition"]
    assert pages_with_images(res.data) == [[pixels(standin.qr_images[_scene(_building(db, "2"))])]]
    standin.fail(-1, path="qrcode/create")
    failed = client.get(f"/console/notices/{notice_id}/sheet.pdf")
    assert failed.status_code == 302
    assert "操作未完成" in console.page(f"/console/notices/{notice_id}")
    console.post("/console/logout")
    assert client.get(f"/console/notices/{notice_id}/sheet.pdf").status_code == 302  # to the login page


def test_file_names_stay_inside_the_folder(runner, db, standin, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    street(db, buildings=("../7", "A 座"), compound="和平里")
    assert runner.invoke(args=["qr", "--compound", "和平里", "--out", str(tmp_path / "qr")]).exit_code == 0
    assert sorted(p.name for p in (tmp_path / "qr").iterdir()) == ["和平里-.._7.png", "和平里-A_座.png"]


def test_an_unknown_ticket_is_an_error_not_an_image(app, standin) -> None:  # type: ignore[no-untyped-def]
    import pytest

    from bot.messaging.gateway import SendError
    from bot.services import services

    with app.app_context(), pytest.raises(SendError) as failed:
        services(app).gateway.qr_image("gQ-unknown")
    assert failed.value.errcode is None and "404" in failed.value.message
    assert standin.requests_to("showqrcode")[-1]["errcode"] == 404
