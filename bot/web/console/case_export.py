"""The filtered case list as CSV for spreadsheets (UTF-8 with BOM, phones masked, no formulas)."""
from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

from bot.clock import fmt_local
from bot.constants import OPEN_STATUSES
from bot.messaging.texts import label
from bot.web.console.access import mask_phone

MAX_ROWS = 10_000
HEADER = ("工单号", "受理时间", "类别", "紧急程度", "状态", "责任部门", "社区", "小区", "楼号", "居民", "电话",
          "办理时限", "已超时", "要求人工", "需关照", "重开次数", "诉求内容")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # a spreadsheet would run these as formulas


def _cell(value: Any) -> str:
    """A cell as text; a resident's words that look like a formula are kept as text."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def _line(case: Any, resident: Any, now: datetime) -> list[str]:
    overdue = case.status in OPEN_STATUSES and case.due_at <= now
    values = (case.number, fmt_local(case.created_at), label("intent", case.intent),
              label("priority", case.priority), label("status", case.status), label("department", case.department),
              case.community.name if case.community else "", case.compound.name if case.compound else "",
              case.building.name if case.building else "", resident.name if resident else "",
              mask_phone(resident.phone) if resident else "", fmt_local(case.due_at), "是" if overdue else "",
              "是" if case.handoff else "", case.care or "", case.reopen_count or 0, case.text)
    return [_cell(v) for v in values]


def to_csv(rows: list[Any], now: datetime) -> str:
    """The rows (case, resident) as CSV text with a BOM, so Excel reads the Chinese."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    for case, resident in rows:
        writer.writerow(_line(case, resident, now))
    return "\ufeff" + out.getvalue()
