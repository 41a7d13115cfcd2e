"""After an emergency's advice the resident says it could not be done ("关不上总阀啊，找不到在哪"): the reply says what
to do meanwhile, and the duty staff hear of it at once with the words (handlers/conversation/after_report.py)."""
from __future__ import annotations

from tests.helpers_intake import BOUND, cases_of, events, outbox


def urgent_alerts(db, case) -> list:  # type: ignore[no-untyped-def]
    return [row for row in outbox(db, "staff") if row.key.startswith(f"staff:{case.id}:") and ":urgent-" in row.key]


def test_a_main_valve_that_will_not_close_reaches_the_duty_staff_at_once(street, wechat) -> None:  # type: ignore[no-untyped-def]
    wechat.send_text("我家水管爆了，水哗哗往外喷，地上全是水了", openid=BOUND)
    [case] = cases_of(street, BOUND)
    assert case.priority == "critical" and not urgent_alerts(street, case)
    reply = wechat.send_text("关不上总阀啊，找不到在哪", openid=BOUND)
    assert "水表" in reply.text and case.number in reply.text and "总阀关好后" not in reply.text
    alerts = urgent_alerts(street, case)
    assert alerts and all(row.status == "pending" for row in alerts)  # sent now, not held for a summary
    assert all("居民说：关不上总阀啊，找不到在哪" in row.payload["text"] for row in alerts)
    assert [e.note for e in events(street, case, "detail")] == ["关不上总阀啊，找不到在哪"]
    assert len(cases_of(street, BOUND)) == 1


def test_still_pouring_after_the_next_step_is_told_to_the_staff_too(street, wechat) -> None:  # type: ignore[no-untyped-def]
    wechat.send_text("我家水管爆了，地上全是水", openid=BOUND)
    assert "接下来" in wechat.send_text("关好了", openid=BOUND).text
    [case] = cases_of(street, BOUND)
    assert not urgent_alerts(street, case)
    reply = wechat.send_text("还是止不住，水还在往外冒", openid=BOUND)
    assert case.number in reply.text and urgent_alerts(street, case)


def test_a_fire_that_cannot_be_put_out_is_no_new_case(street, wechat) -> None:  # type: ignore[no-untyped-def]
    wechat.send_text("厨房着火了，油锅烧起来了", openid=BOUND)
    reply = wechat.send_text("灭不了啊，火越来越大", openid=BOUND)
    [case] = cases_of(street, BOUND)  # not read as a new report of its own
    assert "119" in reply.text and "不要坐电梯" in reply.text and urgent_alerts(street, case)


def test_words_about_an_ordinary_case_stay_a_detail(street, wechat) -> None:  # type: ignore[no-untyped-def]
    wechat.send_text("楼道里堆满了纸箱子", openid=BOUND)
    reply = wechat.send_text("也不知道是谁家的，找不到人", openid=BOUND)
    [case] = cases_of(street, BOUND)
    assert case.priority != "critical" and not urgent_alerts(street, case) and "已补充" in reply.text
