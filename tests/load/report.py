"""What both benchmarks report: nearest-rank percentiles and the one JSON summary."""
import json
from pathlib import Path


def percentiles(values):
    """p50/p95/p99 (nearest rank) and the maximum of millisecond timings."""
    if not values:
        return {"p50_ms": None, "p95_ms": None, "p99_ms": None, "max_ms": None}
    ordered = sorted(values)

    def rank(p):
        return round(ordered[min(len(ordered) - 1, max(0, -(-p * len(ordered) // 100) - 1))], 1)
    return {"p50_ms": rank(50), "p95_ms": rank(95), "p99_ms": rank(99), "max_ms": round(ordered[-1], 1)}


def emit(summary, out=None):
    """Print the summary as JSON (and write it to `out` too, when given)."""
    text = json.dumps(summary, ensure_ascii=False, indent=1)
    if out:
        Path(out).write_text(text + "\n")
    print(text)
