"""Outcomes of one site as a spreadsheet: rows (pure) and their XLSX / CSV files.

Only masked numbers ever reach a row: the ID number comes from the case's snapshot
(auth hands out the masked form only) and every free text written by people (names,
reasons, notes) is masked again with common/privacy.py. A cell that a spreadsheet would
read as a formula is written as text."""
import base64
import csv
import io

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from common import privacy
from services.review import domain

COLUMNS = ("报名号", "姓名", "证件号码", "考区", "考点", "报考类别", "提交次数", "状态", "提交时间",
           "审核时间", "审核人", "原因或退回材料", "补正截止日期")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
FORMATS = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
           "csv": "text/csv; charset=utf-8"}


def row(case, now):
    """One case as the columns above."""
    candidate = case.get("candidate") or {}
    decision = case.get("decision") or {}
    status = domain.shown_status(case, now)
    if decision.get("attempt") != case.get("attempt"):
        decision = {}  # a decision on an earlier attempt is not this attempt's outcome
    if decision.get("items"):
        why = "；".join(f"{i['material_type']}：{i.get('reason') or ''}" for i in decision["items"])
    else:
        why = decision.get("reason") or decision.get("note") or ""
    return [case["candidate_id"], _text(candidate.get("name")), candidate.get("id_number_masked") or "",
            case["region"], case["site"], case.get("category") or "", case.get("attempt"),
            domain.STATUS_NAMES.get(status, status), case.get("submitted_at") or "",
            decision.get("at") or "", decision.get("by") or "", _text(why),
            decision.get("respond_by") or ""]


def _text(value):
    return privacy.mask_text(str(value)) if value else ""


def _cell(value):
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def xlsx(rows, title):
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=title[:31])
    header = []
    for name in COLUMNS:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font = Font(bold=True)
        header.append(cell)
    sheet.append(header)
    for values in rows:
        sheet.append([_cell(v) for v in values])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_bytes(rows):
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows([[_cell(v) for v in values] for values in rows])
    return ("\ufeff" + out.getvalue()).encode("utf-8")  # the BOM makes Excel read UTF-8


def file(rows, site, fmt, stamp):
    """{"filename", "content_type", "data" (base64), "rows"} for RPC over HTTPS."""
    data = xlsx(rows, f"考点{site}审核结果") if fmt == "xlsx" else csv_bytes(rows)
    return {"filename": f"outcomes-{site}-{stamp}.{fmt}", "content_type": FORMATS[fmt],
            "data": base64.b64encode(data).decode("ascii"), "rows": len(rows)}
