"""The console's pages for consultations (results per building with turnout, CSV) and renovation projects
(phases, places, linked cases and their three rates), scoped like cases (issue 15, item 5)."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

from bot.clock import fmt_local, to_local, utcnow
from scheduler.runner import run_once
from tests.helpers_console import Console, add_user
from tests.helpers_intake import cases_of
from tests.helpers_outreach import street as outreach_street
from tests.helpers_outreach import texts

TODAY = to_local(utcnow()).date()


def consultation(runner) -> int:  # type: ignore[no-untyped-def]
    result = runner.invoke(args=["consult", "create", "--compound", "和平里", "--buildings", "1,2",
                                 "--question", "是否同意在本楼加装电梯？", "--options", "同意,不同意",
                                 "--until", fmt_local(utcnow() + timedelta(days=3))])
    assert result.exit_code == 0, result.output
    return int(result.output.strip())


def project(runner) -> int:  # type: ignore[no-untyped-def]
    phase = f"拆除违建,{(TODAY - timedelta(days=2)).isoformat()},{(TODAY + timedelta(days=10)).isoformat()}"
    later = f"管线改造,{(TODAY + timedelta(days=11)).isoformat()},{(TODAY + timedelta(days=40)).isoformat()}"
    result = runner.invoke(args=["project", "create", "--name", "和平里老旧小区综合整治", "--category",
                                 "老旧小区综合改造类", "--compound", "和平里", "--buildings", "1,2", "--unit",
                                 "区住建委老旧小区改造办", "--contact", "010-66668888", "--phase", phase,
                                 "--phase", later])
    assert result.exit_code == 0, result.output
    return int(result.output.strip())


def outreach(app, db, runner, wechat, standin) -> tuple[int, int, str]:  # type: ignore[no-untyped-def]
    """和平里 with a consultation answered by two households and a project with one 施工扰民 case."""
    outreach_street(db)
    cid = consultation(runner)
    pid = project(runner)
    run_once(app, utcnow())
    assert any("加装电梯" in t for t in texts(standin, "o-和平里-1-0"))  # the question (and the works notice)
    wechat.send_text("1", openid="o-和平里-1-0")
    wechat.send_text("不同意", openid="o-和平里-2-0")
    wechat.send_text("工地晚上十一点还在施工，太吵了睡不着", openid="o-和平里-2-1")
    (case,) = cases_of(db, "o-和平里-2-1")
    return cid, pid, case.number


def test_consultation_results_and_csv(console: Console, app, db, runner, wechat, standin) -> None:  # type: ignore[no-untyped-def]
    cid, _, _ = outreach(app, db, runner, wechat, standin)
    listing = console.page("/console/consultations")
    assert f'data-id="{cid}"' in listing and "是否同意在本楼加装电梯？" in listing and "<td>2 户</td>" in listing
    page = console.page(f"/console/consultations/{cid}")
    assert "和平里1号楼、2号楼" in page and "2 / 4 户（50.0%）" in page
    assert "1号楼</td>" in page and "2号楼</td>" in page and "合计</td>" in page
    res = console.client.get(f"/console/consultations/{cid}.csv")
    assert res.status_code == 200 and res.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(res.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][-2:] == ["同意", "不同意"] and len(rows) == 4  # header, 1号楼, 2号楼, 合计
    assert rows[1][1:] == ["2", "1", "50.0%", "1", "0"] and rows[3][1:] == ["4", "2", "50.0%", "1", "1"]


def test_project_page_with_phases_places_cases_and_rates(console: Console, app, db, runner, wechat,  # type: ignore[no-untyped-def]
                                                          standin) -> None:
    _, pid, number = outreach(app, db, runner, wechat, standin)
    listing = console.page("/console/projects")
    assert f'data-id="{pid}"' in listing and "施工中：拆除违建" in listing and "老旧小区综合改造类" in listing
    page = console.page(f"/console/projects/{pid}")
    assert "和平里1号楼、和平里2号楼" in page and "拆除违建" in page and "管线改造" in page
    assert f'data-number="{number}"' in page and "区住建委老旧小区改造办" in page
    assert '<b>1</b>' in page and "响应率" in page and "解决率" in page and "满意率" in page
    assert console.post(f"/console/cases/{number}/accept").status_code == 302
    page = console.page(f"/console/projects/{pid}")
    assert 'id="kpi-response">100.0%' in page


def test_staff_see_only_their_communitys_consultations_and_projects(console: Console, app, db, runner, wechat,  # type: ignore[no-untyped-def]
                                                                    standin) -> None:
    cid, pid, number = outreach(app, db, runner, wechat, standin)
    add_user(db, "chama", community="茶马南街社区")
    add_user(db, "heping", community="和平社区")
    console.client.post("/console/logout", data={"csrf_token": console.token("/console/cases")})
    assert console.login("chama", "secret-pass-1").status_code == 302
    assert f'data-id="{cid}"' not in console.page("/console/consultations")
    assert f'data-id="{pid}"' not in console.page("/console/projects")
    for path in (f"/console/consultations/{cid}", f"/console/consultations/{cid}.csv", f"/console/projects/{pid}"):
        assert console.client.get(path).status_code == 404, path
    console.client.post("/console/logout", data={"csrf_token": console.token("/console/cases")})
    assert console.login("heping", "secret-pass-1").status_code == 302
    assert f'data-id="{cid}"' in console.page("/console/consultations")
    assert f'data-number="{number}"' in console.page(f"/console/projects/{pid}")
