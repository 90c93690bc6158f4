"""Terminal helpers for the reviewer's command line: aligned tables with Chinese text and
local times. (The sign-in it keeps is common.rpc_client.TokenStore.)"""
import unicodedata

from common.clock import beijing_wall


# -- tables ------------------------------------------------------------------------------------
def width(text):
    """Columns a string takes in a terminal: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text, columns):
    return text + " " * (columns - width(text))


def table(headers, rows):
    cells = [[str(value) if value is not None else "-" for value in row] for row in rows]
    widths = [max([width(h)] + [width(row[i]) for row in cells]) for i, h in enumerate(headers)]

    def line(values):
        return "  ".join(pad(v, w) for v, w in zip(values, widths)).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), rule] + [line(row) for row in cells])


def local_time(value):
    """An ISO UTC instant as Beijing wall-clock time, the way reviewers read it."""
    if not value:
        return "-"
    return beijing_wall(value).strftime("%Y-%m-%d %H:%M")


def staff_name(sub):
    return (sub or "-").removeprefix("staff:")
