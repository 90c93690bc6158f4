"""The registration system's candidate list as a file (CSV or XLSX), read into the
records `import_candidates` takes (DESIGN §5).

Headers may be the record's field names or their Chinese names as the registration
system exports them. CSV may be UTF-8 (with or without BOM) or GB 18030 (what Excel
in Chinese saves). An XLSX is checked for its unpacked size before it is opened, so a
zip bomb is refused rather than unpacked."""
import base64
import binascii
import csv
import io
import zipfile

from openpyxl import load_workbook

from common.errors import ValidationError

MAX_FILE_BYTES = 1024 * 1024
MAX_UNPACKED_BYTES = 40 * 1024 * 1024
MAX_ROWS = 10_000
FIELDS = ("registration_number", "name", "id_number", "phone", "region", "site", "category",
          "exam_year", "password", "password_hash")
ALIASES = {"报名号": "registration_number", "姓名": "name", "身份证号": "id_number",
           "证件号码": "id_number", "身份证号码": "id_number", "手机号": "phone", "手机号码": "phone",
           "考区": "region", "考区代码": "region", "考点": "site", "考点代码": "site",
           "考试类别": "category", "类别": "category", "考试年度": "exam_year", "年度": "exam_year",
           "初始密码": "password", "密码": "password", "密码哈希": "password_hash"}
# The body of an import call: the file in base64 plus a little JSON around it.
MAX_BODY_BYTES = MAX_FILE_BYTES * 4 // 3 + 4096


def read(file_name, data):
    """[(row number in the file, record dict)] from a base64-encoded CSV or XLSX file."""
    if not isinstance(file_name, str) or not isinstance(data, str):
        raise ValidationError("请上传 CSV 或 XLSX 文件（file_name 与 data）")
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError("文件内容须为 base64 编码") from None
    if not raw:
        raise ValidationError("文件为空")
    if len(raw) > MAX_FILE_BYTES:
        raise ValidationError(f"文件超过 {MAX_FILE_BYTES // 1024} KB，请分批导入")
    kind = file_name.rsplit(".", 1)[-1].lower()
    if kind == "csv":
        rows = _csv_rows(raw)
    elif kind == "xlsx":
        rows = _xlsx_rows(raw)
    else:
        raise ValidationError("只支持 .csv 和 .xlsx 文件")
    return _records(rows)


def _csv_rows(raw):
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ValidationError("CSV 文件编码无法识别，请另存为 UTF-8")
    return list(csv.reader(io.StringIO(text)))[:MAX_ROWS + 2]


def _xlsx_rows(raw):
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            if sum(info.file_size for info in archive.infolist()) > MAX_UNPACKED_BYTES:
                raise ValidationError("XLSX 文件解压后过大")
        book = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except ValidationError:
        raise
    except Exception:  # not a zip, not a workbook: the file is at fault, say so
        raise ValidationError("无法读取该 XLSX 文件，请确认文件完好") from None
    try:
        sheet = book.worksheets[0]
        return [[_cell(v) for v in row] for _, row in zip(range(MAX_ROWS + 2), sheet.iter_rows(values_only=True))]
    finally:
        book.close()


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a number typed into a cell: 2026.0 is 2026
    return str(value)


def _records(rows):
    rows = [r for r in rows if any(str(c).strip() for c in r)]
    if not rows:
        raise ValidationError("文件中没有数据")
    header = [ALIASES.get(str(h).strip(), str(h).strip()) for h in rows[0]]
    missing = [f for f in FIELDS[:8] if f not in header]
    if missing:
        raise ValidationError(f"缺少列：{', '.join(missing)}（首行须为列名）")
    if len(rows) - 1 > MAX_ROWS:
        raise ValidationError(f"一次最多导入 {MAX_ROWS} 行，请分批导入")
    return [(number, {key: str(value).strip() for key, value in zip(header, row) if key in FIELDS})
            for number, row in enumerate(rows[1:], start=2)]
