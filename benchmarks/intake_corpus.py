"""Print the sharpness corpus table of benchmarks/intake_corpus.md: every image of the
corpus that tests/unit/test_intake.py builds and asserts on, with its size and score.

    python benchmarks/intake_corpus.py
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere

from tests.unit.test_intake import (  # noqa: E402
    BLURRED_CORPUS, BORDERLINE_CORPUS, SHARP_CORPUS, corpus_image, score)


def main():
    for group, corpus in (("sharp", SHARP_CORPUS), ("blurred", BLURRED_CORPUS),
                          ("borderline", BORDERLINE_CORPUS)):
        print(group)
        for name in corpus:
            data = corpus_image(group, name)
            print(f"  {name:42s} {len(data) // 1024:4d} KB  sharpness {score(data):5.1f}")


if __name__ == "__main__":
    main()
