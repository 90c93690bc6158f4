"""How well and how cheaply review's ID card reader reads (issue 21); results in
benchmarks/README.md.

Draws a seeded corpus of synthetic ID cards (tests/unit/idcards.py: fronts and backs
photographed by a phone, JPEG under 200 KB, plus photos too blurred for intake), passes
each through intake as an upload would, reads what intake accepts with the reader's own
code (services/review/idcheck/ocr_worker.py: RapidOCR, one thread, then idcard.read) and judges
it with auth's own verdict rules against the card's registration and against another
person's. Prints, per engine: the share of fronts whose number and name were read
exactly, backs whose validity end was read, how often a card that matches its
registration was called `mismatch`, how often another person's card was called `match`,
and CPU seconds per image (this process's own CPU, one image at a time). With
`tesseract` (Debian's tesseract-ocr and tesseract-ocr-chi-sim) and pytesseract installed
the same corpus is read by Tesseract too, as a reference.

    .venv/bin/python benchmarks/ocr_bench.py [--cards 300] [--illegible 30] [--seed 1000]
"""
import argparse
import io
import resource
import shutil
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere

from services.auth import domain as verdicts  # noqa: E402
from services.materials import intake  # noqa: E402
from services.review.idcheck import idcard, ocr_worker  # noqa: E402
from tests.unit import idcards  # noqa: E402


def cpu_s():
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)  # tesseract runs as a child
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def rapidocr_reader():
    engine = ocr_worker.load()
    return ocr_worker.engine_name(), lambda data: ocr_worker.read_image(engine, data)


def tesseract_reader():
    """Tesseract 5 (chi_sim), its words grouped into lines as boxes for idcard.read."""
    try:
        import pytesseract
        from PIL import Image
    except ImportError:
        return None
    if shutil.which("tesseract") is None or "chi_sim" not in pytesseract.get_languages():
        return None

    def read(data):
        words = pytesseract.image_to_data(Image.open(io.BytesIO(data)), lang="chi_sim",
                                          output_type=pytesseract.Output.DICT)
        lines = {}
        for i, text in enumerate(words["text"]):
            if text.strip() and float(words["conf"][i]) >= 0:
                key = (words["block_num"][i], words["par_num"][i], words["line_num"][i])
                lines.setdefault(key, []).append(i)
        boxes = []
        for ids in lines.values():
            left = min(words["left"][i] for i in ids)
            top = min(words["top"][i] for i in ids)
            right = max(words["left"][i] + words["width"][i] for i in ids)
            bottom = max(words["top"][i] + words["height"][i] for i in ids)
            corners = [[left, top], [right, top], [right, bottom], [left, bottom]]
            boxes.append([corners, "".join(words["text"][i] for i in ids),
                          min(float(words["conf"][i]) for i in ids) / 100])
        return idcard.read(boxes)

    return f"tesseract {pytesseract.get_tesseract_version()} (chi_sim)", read


def corpus(cards, illegible, seed):
    """[(kind, card, bytes)]: kind front/back/illegible; drawn from the seed, never stored."""
    items = []
    for n in range(cards):
        card = idcards.card(seed + n, expired=(n % 10 == 9))
        items.append(("front", card, idcards.photo_jpeg(card, "front")))
        items.append(("back", card, idcards.photo_jpeg(card, "back")))
    for n in range(illegible):
        card = idcards.card(seed + cards + n)
        items.append(("illegible", card, idcards.illegible_jpeg(card, "front")))
    return items


def accepted(data):
    try:
        intake.inspect_image(data)
        return True
    except intake.IntakeRefused:
        return False


def judge(fields, registered):
    """auth's verdicts on what was read, against `registered` (a Card)."""
    number = fields["id_number"]
    return (verdicts.number_verdict(number, number == registered.id_number),
            verdicts.name_verdict(fields["name"], registered.name))


def run(name, read, items):
    stats = {"fronts": 0, "number": 0, "name": 0, "backs": 0, "expires": 0,
             "false_mismatch": 0, "false_number_match": 0, "false_name_match": 0,
             "unreadable": 0, "cpu": []}
    cards = [card for kind, card, _ in items if kind == "front"]
    others = {card.seed: cards[(i + 1) % len(cards)] for i, card in enumerate(cards)}
    for kind, card, data in items:
        if kind == "illegible" or not accepted(data):
            continue
        start = cpu_s()
        fields = read(data)
        stats["cpu"].append(cpu_s() - start)
        if kind == "back":
            stats["backs"] += 1
            want = idcard.LONG_TERM if card.valid_until is None else card.valid_until.isoformat()
            stats["expires"] += fields["expires"] == want
            continue
        stats["fronts"] += 1
        stats["number"] += fields["id_number"] == card.id_number
        stats["name"] += fields["name"] == card.name
        own = judge(fields, card)
        stats["false_mismatch"] += "mismatch" in own
        stats["unreadable"] += own[0] == "unreadable"
        other = judge(fields, others[card.seed])
        stats["false_number_match"] += other[0] == "match"
        stats["false_name_match"] += other[1] == "match" and card.name != others[card.seed].name
    return name, stats


def pct(part, whole):
    return f"{100 * part / whole:.1f} %" if whole else "-"


def report(results, items):
    fronts = sum(1 for kind, _, _ in items if kind == "front")
    passed = {kind: sum(1 for k, _, d in items if k == kind and accepted(d))
              for kind in ("front", "back", "illegible")}
    print(f"corpus: {fronts} cards (front and back), {passed['front']} fronts and "
          f"{passed['back']} backs accepted by intake; "
          f"{sum(1 for k, _, _ in items if k == 'illegible')} blurred photos, "
          f"{passed['illegible']} of them accepted by intake")
    rows = [("ID number read exactly (fronts)", lambda s: pct(s["number"], s["fronts"])),
            ("name read exactly (fronts)", lambda s: pct(s["name"], s["fronts"])),
            ("validity end read exactly (backs)", lambda s: pct(s["expires"], s["backs"])),
            ("own card called mismatch (number or name)", lambda s: pct(s["false_mismatch"], s["fronts"])),
            ("own card's number unreadable", lambda s: pct(s["unreadable"], s["fronts"])),
            ("another's card: number called match", lambda s: str(s["false_number_match"])),
            ("another's card: different name called match", lambda s: str(s["false_name_match"])),
            ("CPU s per image, mean", lambda s: f"{statistics.fmean(s['cpu']):.3f}"),
            ("CPU s per image, p95", lambda s: f"{sorted(s['cpu'])[int(len(s['cpu']) * 0.95) - 1]:.3f}"),
            ("CPU s per image, max", lambda s: f"{max(s['cpu']):.3f}")]
    names = [name for name, _ in results]
    print("| measure | " + " | ".join(names) + " |")
    print("| --- |" + " --- |" * len(names))
    for label, value in rows:
        print(f"| {label} | " + " | ".join(value(stats) for _, stats in results) + " |")
    if len(results) == 2:
        ratio = statistics.fmean(results[0][1]["cpu"]) / statistics.fmean(results[1][1]["cpu"])
        print(f"CPU ratio {names[0]} / {names[1]}: {ratio:.2f}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cards", type=int, default=300)
    parser.add_argument("--illegible", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1000)
    args = parser.parse_args(argv)
    started = time.monotonic()
    items = corpus(args.cards, args.illegible, args.seed)
    readers = [rapidocr_reader(), tesseract_reader()]
    if readers[1] is None:
        print("reference not run: apt-get install tesseract-ocr tesseract-ocr-chi-sim; pip install pytesseract")
    results = [run(name, read, items) for name, read in filter(None, readers)]
    report(results, items)
    print(f"({time.monotonic() - started:.0f} s wall)")


if __name__ == "__main__":
    main()
