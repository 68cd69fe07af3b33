"""One per-subset table from `zoo.compression.codec_eval` runs over different subsets.

    python experiments/codec_eval_merge.py runs/eval_a runs/eval_b

Each argument is a codec_eval --output_dir (its rd.csv and bd_rates.csv). A long
evaluation on a shared CPU can run as several processes, one per --subsets; this prints
the table one run would have printed: every subset, then `all`, the mean of every
photograph weighted alike (each subset's mean curve weighted by its number of photographs,
point by point, which is what one run computes).
"""

from __future__ import annotations

import collections
import csv
import pathlib
import sys

from zoo.compression import codec_eval_lib as lib


def read(output_dir) -> tuple[dict, dict, list]:
    """(subset -> label -> curve, subset -> photographs, tested labels) of one run."""
    output_dir = pathlib.Path(output_dir)
    curves = collections.defaultdict(lambda: collections.defaultdict(list))
    with open(output_dir / "rd.csv", newline="") as file:
        for row in csv.DictReader(file):
            point = {k: float(v) for k, v in row.items() if k not in ("model", "subset") and v}
            curves[row["subset"]][row["model"]].append(point)
    counts, tests = {}, []
    with open(output_dir / "bd_rates.csv", newline="") as file:
        for row in csv.DictReader(file):
            counts[row["subset"]] = int(row["photos"])
            if row["model"] not in tests:
                tests.append(row["model"])
    return curves, counts, tests


def main(output_dirs) -> int:
    """Prints the merged table (module docstring)."""
    by_subset, counts, tests = {}, {}, []
    for output_dir in output_dirs:
        curves, run_counts, run_tests = read(output_dir)
        for subset, labels in curves.items():
            if subset != lib.ALL:
                by_subset[subset] = dict(labels)
                counts[subset] = run_counts[subset]
        tests += [test for test in run_tests if test not in tests]
    counts[lib.ALL] = sum(counts.values())
    subsets = list(by_subset)
    merged = {}
    for label in by_subset[subsets[0]]:
        points = []
        for i in range(len(by_subset[subsets[0]][label])):
            # Only what every run measured (one may have left out estimated_bpp).
            keys = set.intersection(*(set(by_subset[s][label][i]) for s in subsets))
            points.append(
                {
                    key: sum(counts[s] * by_subset[s][label][i][key] for s in subsets)
                    / counts[lib.ALL]
                    for key in sorted(keys)
                }
            )
        merged[label] = points
    by_subset[lib.ALL] = merged
    print(lib.format_summary(lib.summary_rows(by_subset, tests, counts)))
    return 0


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1:]))
