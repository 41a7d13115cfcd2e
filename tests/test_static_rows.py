"""Compounds and buildings are kept per process for answering; an import anywhere (another process, another
engine) makes every process read them afresh."""
from __future__ import annotations

from pathlib import Path

from bot.devtools.demo import DEMO_DIR
from bot.domain.directory import import_directory
from bot.storage.db import connect
from tests.helpers_intake import BOUND, cases_of


def _import_elsewhere(database_url: str, csv: Path) -> None:
    """`flask --app bot import-directory` as another process runs it: its own engine and transaction."""
    engine, sessions = connect(database_url)
    with sessions() as session:
        import_directory(session, csv)
        session.commit()
    engine.dispose()


def test_a_building_changed_by_an_import_elsewhere_routes_the_next_report_anew(settings, street, wechat,
                                                                               tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert wechat.send_text("厨房水管漏水了", openid=BOUND).text  # 5号楼 has a property company: it is kept
    [leak] = cases_of(street, BOUND)
    assert leak.department == "property"
    lines = (DEMO_DIR / "directory.csv").read_text(encoding="utf-8").splitlines()
    csv = tmp_path / "directory.csv"
    csv.write_text("\n".join(line.replace("马连道南口三区,5,华远物业", "马连道南口三区,5,") for line in lines) + "\n",
                   encoding="utf-8")
    _import_elsewhere(str(settings["DATABASE_URL"]), csv)  # 5号楼 now has none (失管)
    assert wechat.send_text("家里停水了，一滴水都没有", openid=BOUND).text
    leak, outage = cases_of(street, BOUND)
    assert (outage.intent, outage.department) == ("utility", "repair")  # not the property company any more
