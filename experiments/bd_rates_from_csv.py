"""BD-rates (PSNR) between the curves of a `zoo.compression.codec_eval` rd.csv, without re-encoding.

    .venv/bin/python experiments/bd_rates_from_csv.py runs/codec_eval/rd.csv "YOTO (1800 s)"

Prints the BD-rate of the named curve against every other curve in the file, by both
interpolations (`pchip`, codec_eval's default, and VCEG-M33's `cubic`): how the numbers
in experiments/README.md computed before 2026-11-26 (cubic) compare with today's.
"""

from __future__ import annotations

import collections
import csv
import sys

from yoto_tf import metrics
from zoo.compression import codec_eval_lib


def main(csv_path: str, test: str) -> int:
    """Prints the BD-rates of curve `test` in `csv_path`; 2 when it has no such curve."""
    curves = collections.defaultdict(list)
    with open(csv_path, newline="") as file:
        for row in csv.DictReader(file):
            curves[row["model"]].append({"bpp": float(row["bpp"]), "psnr": float(row["psnr"])})
    if test not in curves:
        print(f"{csv_path} has no curve {test!r}; it has {sorted(curves)}.", file=sys.stderr)
        return 2
    for method in metrics.BD_RATE_METHODS:
        for anchor, value in codec_eval_lib.bd_rates(curves, test, method).items():
            print(f"BD-rate (PSNR, {method}) of {test} against {anchor}: {value:+.1f}%")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(*sys.argv[1:]))
