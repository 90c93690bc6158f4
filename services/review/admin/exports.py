"""Outcomes of a site or a region as a spreadsheet: rows (pure) and their XLSX / CSV files.

Only masked numbers ever reach a row: the ID number comes from the case's snapshot
(auth hands out the masked form only) and every free text written by people (names,
reasons, notes) is masked again with common/privacy.py. A cell that a spreadsheet would
read as a formula is written as text.

People read them: times are Beijing wall-clock time, in XLSX as real date-time cells
with a number format (a spreadsheet sorts and filters them), in CSV as
`YYYY-MM-DD HH:MM`; categories, material types, reasons, sites and reviewers by name."""
import base64
import csv
import io
from datetime import date, datetime

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from common import categories, privacy
from common.clock import beijing_wall
from services.review import domain

COLUMNS = ("报名号", "姓名", "证件号码", "考区", "考点", "报考类别", "提交次数", "状态", "提交时间",
           "审核时间", "审核人", "原因或退回材料", "补正截止日期")
WIDTHS = (16, 10, 20, 6, 12, 20, 8, 12, 17, 17, 22, 60, 13)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
FORMATS = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
           "csv": "text/csv; charset=utf-8"}
DATETIME_FORMAT, DATE_FORMAT = "yyyy-mm-dd hh:mm", "yyyy-mm-dd"
NOTE_MARK = "审核员说明："


def row(case, now, site_names=None):
    """One case as the columns above (times as naive Beijing datetimes, dates as dates)."""
    candidate = case.get("candidate") or {}
    decision = case.get("decision") or {}
    status = domain.shown_status(case, now)
    if decision.get("attempt") != case.get("attempt"):
        decision = {}  # a decision on an earlier attempt is not this attempt's outcome
    names = case.get("type_names") or {}
    if decision.get("items"):
        why = "；".join(f"{names.get(i['material_type'], i['material_type'])}：{_reason(i)}"
                       for i in decision["items"])
    else:
        why = decision.get("reason") or decision.get("note") or ""
    site = case["site"]
    site_name = (site_names or {}).get(site)
    return [case["candidate_id"], _text(candidate.get("name")), candidate.get("id_number_masked") or "",
            case["region"], f"{site} {site_name}" if site_name else site,
            categories.name_of(case.get("category")), case.get("attempt"),
            domain.STATUS_NAMES.get(status, status), _moment(case.get("submitted_at")),
            _moment(decision.get("confirmed_at") or decision.get("at")), _reviewers(decision),
            _text(why), _day(decision.get("respond_by"))]


def _reason(item):
    """`图片不清晰、材料不完整（reviewer's note）`: the coded reasons' labels, not the
    candidate's paragraph."""
    codes = item.get("reason_codes") or [item.get("reason_code")]
    labels = [domain.REASONS[c][0] for c in codes if c in domain.REASONS]
    text = item.get("reason") or ""
    if not labels:
        return text
    if codes == ["other"]:
        return f"{labels[0]}（{text}）"
    note = text.split(NOTE_MARK, 1)[1] if NOTE_MARK in text else ""
    return f"{'、'.join(labels)}（{note}）" if note else "、".join(labels)


def _reviewers(decision):
    by = (decision.get("by") or "").removeprefix("staff:")
    confirmed = (decision.get("confirmed_by") or "").removeprefix("staff:")
    return f"{by}（复核：{confirmed}）" if confirmed else by


def _moment(value):
    return beijing_wall(value).replace(microsecond=0) if value else None


def _day(value):
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _text(value):
    return privacy.mask_text(str(value)) if value else ""


def _cell(value):
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def xlsx(rows, title):
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=title[:31])
    for n, width in enumerate(WIDTHS):
        sheet.column_dimensions[chr(ord("A") + n)].width = width
    header = []
    for name in COLUMNS:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font = Font(bold=True)
        header.append(cell)
    sheet.append(header)
    for values in rows:
        sheet.append([_xlsx_cell(sheet, v) for v in values])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _xlsx_cell(sheet, value):
    if isinstance(value, (datetime, date)):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = DATETIME_FORMAT if isinstance(value, datetime) else DATE_FORMAT
        return cell
    return _cell(value)


def _csv_value(value):
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return "" if value is None else _cell(value)


def csv_bytes(rows):
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows([[_csv_value(v) for v in values] for values in rows])
    return ("\ufeff" + out.getvalue()).encode("utf-8")  # the BOM makes Excel read UTF-8


def file(rows, scope_name, fmt, stamp, title=None):
    """{"filename", "content_type", "data" (base64), "rows"} for RPC over HTTPS."""
    data = xlsx(rows, title or f"{scope_name}审核结果") if fmt == "xlsx" else csv_bytes(rows)
    return {"filename": f"outcomes-{scope_name}-{stamp}.{fmt}", "content_type": FORMATS[fmt],
            "data": base64.b64encode(data).decode("ascii"), "rows": len(rows)}
