"""Prints experiments/README.md's lifelong tables from the runs of experiments/lifelong_runs.sh.

    python experiments/lifelong_table.py runs/lifelong

For each sequence: one line per method (final average accuracy, forgetting, parameters each
task adds in % of the base, minutes), then each method's accuracy matrix.
"""

from __future__ import annotations

import json
import pathlib
import sys

from zoo.lifelong import config, evaluation


def main(out_dir: str) -> None:
    """Reads `<out_dir>/<sequence>_<method>/results.json` and prints Markdown tables."""
    for sequence in config.SEQUENCES:
        runs = {}
        for method in config.METHODS:
            path = pathlib.Path(out_dir) / f"{sequence}_{method}" / "results.json"
            if path.is_file():
                runs[method] = json.loads(path.read_text())
        if not runs:
            continue
        print(f"\n#### {sequence}\n")
        print(
            "| method | tasks | final average accuracy | forgetting (points) "
            "| parameters per task (% of base) | minutes |"
        )
        print("|---|---|---|---|---|---|")
        for method, results in runs.items():
            added = results["parameters"]["per_task_percent_of_base"][-1]
            print(
                f"| {method} | {len(results['accuracy'])} | "
                f"{100 * results['average_accuracy']:.2f}% | "
                f"{100 * results['forgetting']:.2f} | {added:.2f}% | "
                f"{sum(results['seconds']) / 60:.1f} |"
            )
        for method, results in runs.items():
            print(f"\n{sequence}, {method} (accuracy in %, row: after learning that task):\n")
            print(evaluation.format_matrix(results["accuracy"], results["tasks"]))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "runs/lifelong")
