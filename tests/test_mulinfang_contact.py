"""睦邻坊's contact (issue 15, item 1): the group's contact, marked with `mulinfang add --contact` or in the
console, is shown to the building's residents where it helps — the reply to a clutter or neighbour-leak case,
the answer about 睦邻坊, the door sheet in the group's cleanup notice — with a phone only where one was given."""
from __future__ import annotations

import logging

import pytest
from flask.testing import FlaskCliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.storage.models import MulinfangMember
from tests.helpers_console import Console
from tests.helpers_intake import BOUND

CONTACT = "马连道南口三区5号楼睦邻坊联系人：赵大姐（楼门长），电话 13800001111"
PHONE = "13800001111"


def _member(runner: FlaskCliRunner, *extra: str, openid: str = "o-captain", name: str = "赵大姐",
            building: str = "5") -> None:
    result = runner.invoke(args=["mulinfang", "add", "--compound", "马连道南口三区", "--building", building,
                                 "--openid", openid, "--name", name, "--role", "楼门长", *extra])
    assert result.exit_code == 0, result.output


def test_the_contact_is_in_the_reply_to_a_clutter_case_and_in_the_answer_about_mulinfang(  # type: ignore[no-untyped-def]
        runner, wechat, db, street, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    _member(runner, "--contact", "--phone", PHONE)
    clutter = wechat.send_text("楼道里堆满了纸箱和旧自行车，过不去人", openid=BOUND).text
    assert clutter is not None and "已为您登记工单" in clutter and CONTACT in clutter
    leak = wechat.send_text("楼上邻居家漏水，我家顶棚一直滴水", openid="demo-resident-1").text
    assert leak is not None and CONTACT in leak  # a neighbour's leak: 商量着办 with the group
    pest = wechat.send_text("家里厨房有很多蟑螂", openid=BOUND).text
    assert pest is not None and "已为您登记工单" in pest and "睦邻坊联系人" not in pest  # not a group's kind

    asked = wechat.send_text("睦邻坊是干什么的？", openid=BOUND).text
    assert asked is not None and "邻里自治小组" in asked and CONTACT in asked and "我想加入睦邻坊" in asked
    who = wechat.send_text("我们楼睦邻坊联系人是谁", openid=BOUND).text
    assert who is not None and CONTACT in who
    stranger = wechat.send_text("睦邻坊是干什么的？", openid="o-no-address").text  # no building known
    assert stranger is not None and "邻里自治小组" in stranger and "睦邻坊联系人" not in stranger
    captain = wechat.send_text("睦邻坊是干什么的？", openid="o-captain").text  # the contact is not told of themself
    assert captain is not None and "睦邻坊联系人" not in captain
    assert PHONE not in caplog.text  # phone numbers never go into logs


def test_no_phone_unless_given_and_no_contact_no_line(runner, wechat, db, street) -> None:  # type: ignore[no-untyped-def]
    _member(runner)  # a member, but not the contact
    reply = wechat.send_text("楼道里堆满了纸箱和旧自行车，过不去人", openid=BOUND).text
    assert reply is not None and "睦邻坊联系人" not in reply
    _member(runner, "--contact")  # the contact, no phone given
    asked = wechat.send_text("睦邻坊是什么", openid=BOUND).text
    assert asked is not None and "马连道南口三区5号楼睦邻坊联系人：赵大姐（楼门长）。" in asked and "电话" not in asked


def _members(db: Session) -> dict[str, MulinfangMember]:
    db.expire_all()
    return {m.name: m for m in db.scalars(select(MulinfangMember))}


def test_the_console_marks_the_groups_contact(console: Console, runner, wechat, db) -> None:  # type: ignore[no-untyped-def]
    _member(runner, "--contact")
    _member(runner, openid="o-helper", name="钱师傅")
    page = console.page("/console/mulinfang")
    assert "设为联系人" in page and "取消联系人" in page and "本人同意公开才填" in page
    helper = _members(db)["钱师傅"]
    assert console.post(f"/console/mulinfang/{helper.id}/contact", contact="1", phone=PHONE).status_code == 302
    members = _members(db)
    assert (members["钱师傅"].contact, members["钱师傅"].phone, members["赵大姐"].contact) == (True, PHONE, False)
    page = console.page("/console/mulinfang")
    assert "已设 钱师傅 为马连道南口三区5号楼睦邻坊的联系人" in page
    asked = wechat.send_text("睦邻坊是干什么的", openid=BOUND).text
    assert asked is not None and f"联系人：钱师傅（楼门长），电话 {PHONE}" in asked
    assert console.post(f"/console/mulinfang/{helper.id}/contact", contact="0").status_code == 302
    members = _members(db)
    assert (members["钱师傅"].contact, members["钱师傅"].phone) == (False, None)  # unmarked: the phone goes too
    asked = wechat.send_text("睦邻坊是干什么的", openid=BOUND).text
    assert asked is not None and "睦邻坊联系人" not in asked
