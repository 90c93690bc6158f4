"""The national exam's categories (考试类别): each code and the name the catalogue, the
registration system's files and every screen use. One list for every service: auth
validates a candidate record against it (the code or the name), materials' catalogue
shows the names to candidates, review writes them into exports."""

NAMES = {
    "clinical_practitioner": "临床执业医师",
    "clinical_assistant": "临床执业助理医师",
    "integrated_practitioner": "中西医结合执业医师",
    "integrated_assistant": "中西医结合执业助理医师",
    "tcm_practitioner": "中医执业医师",
    "tcm_assistant": "中医执业助理医师",
    "dental_practitioner": "口腔执业医师",
    "dental_assistant": "口腔执业助理医师",
    "public_health_practitioner": "公共卫生执业医师",
    "public_health_assistant": "公共卫生执业助理医师",
}
_BY_NAME = {name: code for code, name in NAMES.items()}


def code_of(value):
    """The code for a category given by its code or its name; None for anything else."""
    text = str(value or "").strip()
    return text if text in NAMES else _BY_NAME.get(text)


def name_of(code):
    """The category's name, or the code itself when it is not one of ours."""
    return NAMES.get(code, code or "")


def accepted():
    """What a record may give, for a refusal to list: every name with its code."""
    return "、".join(f"{name}（{code}）" for code, name in NAMES.items())
