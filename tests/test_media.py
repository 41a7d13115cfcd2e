"""Photos and voice kept (issue 14 item 6): a resident's image or voice message, pushed through the signed
webhook, is downloaded by the scheduler through media/get (the stand-in serves a real JPEG and AMR clip) once
per MediaId, retried while WeChat has it, stored under MEDIA_DIR (voice also as MP3) and served on the case
page only to staff who may see the case."""
from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

from PIL import Image
from sqlalchemy import select

from bot.clock import utcnow
from bot.storage.models import MediaFile
from scheduler.runner import run_once
from tests.helpers_console import Console, add_user, report
from tests.helpers_intake import BOUND


def media_rows(db) -> dict[str, MediaFile]:  # type: ignore[no-untyped-def]
    db.expire_all()
    return {m.media_id: m for m in db.scalars(select(MediaFile))}


def test_photo_and_voice_are_downloaded_once_and_served_on_the_case(app, console: Console, wechat, db,
                                                                     standin) -> None:  # type: ignore[no-untyped-def]
    case = report(wechat, db)
    assert wechat.send_image(openid=BOUND, media_id="photo-1").status == 200
    assert wechat.send("voice", {"MediaId": "voice-1", "Format": "amr"}, openid=BOUND).status == 200
    page = console.page(f"/console/cases/{case.number}")
    assert "正在从微信下载" in page  # not yet kept: the scheduler has not run
    run_once(app)
    run_once(app)  # again: nothing is downloaded twice
    assert len(standin.requests_to("media/get")) == 2
    rows = media_rows(db)
    assert {m: (r.status, r.content_type) for m, r in rows.items()} == {
        "photo-1": ("stored", "image/jpeg"), "voice-1": ("stored", "audio/mpeg")}
    folder = Path(app.config["MEDIA_DIR"])
    assert (folder / rows["voice-1"].path).read_bytes()[:3] in (b"ID3", b"\xff\xfb", b"\xff\xf3")
    assert (folder / rows["voice-1"].path).with_suffix(".amr").read_bytes().startswith(b"#!AMR\n")

    page = console.page(f"/console/cases/{case.number}")
    photo = f"/console/cases/{case.number}/media/{rows['photo-1'].id}"
    voice = f"/console/cases/{case.number}/media/{rows['voice-1'].id}"
    assert f'<img src="{photo}"' in page and f'<audio controls preload="metadata" src="{voice}"' in page
    with console.client.get(photo) as res:  # (closed: the file is streamed)
        assert res.status_code == 200 and res.mimetype == "image/jpeg"
        with Image.open(io.BytesIO(res.data)) as image:
            assert image.format == "JPEG" and image.size == (96, 64)
    with console.client.get(voice) as res:
        assert res.mimetype == "audio/mpeg"


def test_media_is_scoped_like_the_case(app, client, console: Console, wechat, db, standin) -> None:  # type: ignore[no-untyped-def]
    case = report(wechat, db)  # a leak: the property company's case
    wechat.send_image(openid=BOUND, media_id="photo-2")
    run_once(app)
    url = f"/console/cases/{case.number}/media/{media_rows(db)['photo-2'].id}"
    with console.client.get(url) as res:
        assert res.status_code == 200
    add_user(db, "chengguan", department="enforcement")
    other = Console(app.test_client())
    assert other.login("chengguan", "secret-pass-1").status_code == 302
    assert other.client.get(url).status_code == 404  # another department's case: no hint it exists
    assert app.test_client().get(url).status_code in (302, 401)  # not logged in
    wrong_case = report(wechat, db, text="楼道里堆满了纸箱", openid="demo-resident-2")
    assert console.client.get(f"/console/cases/{wrong_case.number}/media/{media_rows(db)['photo-2'].id}"
                              ).status_code == 404  # a file of another case


def test_a_refused_download_is_retried_and_given_up_after_three_days(app, street, wechat, db, standin) -> None:  # type: ignore[no-untyped-def]
    report(wechat, db)
    wechat.send_image(openid=BOUND, media_id="photo-3")
    wechat.send_image(openid=BOUND, media_id="photo-4")
    standin.fail(-1, "media/get", times=1)  # WeChat busy: tried again later
    standin.fail(40007, "media/get", times=1)  # invalid media_id: given up
    now = utcnow()
    run_once(app, now)
    rows = media_rows(db)
    assert (rows["photo-3"].status, rows["photo-3"].attempts) == ("pending", 1)
    assert rows["photo-4"].status == "failed" and rows["photo-4"].error.startswith("40007")
    run_once(app, now + timedelta(seconds=10))
    assert media_rows(db)["photo-3"].status == "pending"  # its backoff has not passed
    run_once(app, now + timedelta(minutes=1))
    assert media_rows(db)["photo-3"].status == "stored"
    wechat.send_image(openid=BOUND, media_id="photo-5")
    standin.fail(-1, "media/get", times=100)
    run_once(app, now + timedelta(minutes=2))
    run_once(app, now + timedelta(days=3, hours=1))
    assert media_rows(db)["photo-5"].status == "failed"  # WeChat no longer has it


def test_a_video_is_fetched_from_the_url_media_get_gives_and_shown_as_a_video(app, console: Console, wechat, db,  # type: ignore[no-untyped-def]
                                                                              standin) -> None:
    case = report(wechat, db)
    assert wechat.send("video", {"MediaId": "video-1", "ThumbMediaId": "thumb-1"}, openid=BOUND).status == 200
    assert wechat.send("shortvideo", {"MediaId": "video-2", "ThumbMediaId": "thumb-2"}, openid=BOUND).status == 200
    assert "视频：正在从微信下载" in console.page(f"/console/cases/{case.number}")
    run_once(app)
    run_once(app)  # nothing twice
    assert len(standin.requests_to("media/get")) == 2  # WeChat answers with the video's download URL (JSON)
    rows = media_rows(db)
    assert {m: (r.kind, r.status, r.content_type) for m, r in rows.items()} == {
        "video-1": ("video", "stored", "video/mp4"), "video-2": ("shortvideo", "stored", "video/mp4")}
    kept = (Path(app.config["MEDIA_DIR"]) / rows["video-1"].path).read_bytes()
    assert kept[4:8] == b"ftyp" and kept == (Path("bot/devtools/demo_data/video.mp4")).read_bytes()
    page = console.page(f"/console/cases/{case.number}")
    for media_id in ("video-1", "video-2"):
        url = f"/console/cases/{case.number}/media/{rows[media_id].id}"
        assert f'<video controls preload="metadata" src="{url}"' in page
        with console.client.get(url) as res:
            assert res.status_code == 200 and res.mimetype == "video/mp4"
