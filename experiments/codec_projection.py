"""Where the codec's BD-rate against WebP is heading: a power-law fit over the candidates.

    python experiments/codec_projection.py STEPS:BD [STEPS:BD ...] [--ahead=100000]

Each argument is a release candidate's training steps and its BD-rate (PSNR) in percent
against WebP from `zoo.releases.checks` (experiments/README.md has the table). Fits
log(1 + BD/100) against log(steps) with a straight line (`numpy.polyfit`) over all the
candidates and over the last four and last three (the gains slow, so the later fits are
the cautious ones), and prints for each fit the change per doubling of steps, the BD-rate
it projects at the last candidate's steps plus `--ahead`, and the steps at which it
projects 0% (never, if the line does not fall), or `--target` percent. An extrapolation,
not a measurement.

The same fit serves any ratio that falls with training: a style student's objective over
its teacher's, 1.608 as `STEPS:60.8`, with `--target=5` for issue 41's 5%.
"""

from __future__ import annotations

import argparse
import math

import numpy as np


def parse_candidate(text: str) -> tuple[float, float]:
    """(steps, BD-rate in percent) from 'STEPS:BD', e.g. '86000:43.6'."""
    try:
        steps, bd_rate = (float(part) for part in text.split(":"))
    except ValueError as error:
        raise argparse.ArgumentTypeError(
            f"expected STEPS:BD such as 86000:43.6, got {text!r}"
        ) from error
    if steps <= 0 or bd_rate <= -100:
        raise argparse.ArgumentTypeError(f"steps must be > 0 and BD-rate > -100%: {text!r}")
    return steps, bd_rate


def fit(candidates: list[tuple[float, float]]) -> tuple[float, float]:
    """(slope, intercept) of log(1 + BD/100) against log(steps)."""
    steps, bd_rates = np.array(candidates).T
    slope, intercept = np.polyfit(np.log(steps), np.log1p(bd_rates / 100), 1)
    return float(slope), float(intercept)


def projected_bd_rate(slope: float, intercept: float, steps: float) -> float:
    """The fitted line's BD-rate in percent at `steps`."""
    return 100 * math.expm1(intercept + slope * math.log(steps))


def main() -> None:
    """Prints one line per fit (module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("candidates", nargs="+", type=parse_candidate, help="STEPS:BD")
    parser.add_argument("--ahead", type=float, default=100_000, help="steps past the last")
    parser.add_argument("--target", type=float, default=0.0, help="percent to find the steps of")
    args = parser.parse_args()
    candidates = sorted(args.candidates)
    if len(candidates) < 2:
        parser.error("give at least two candidates")
    if args.target <= -100:
        parser.error(f"--target must be above -100%, got {args.target:g}")
    target = math.log1p(args.target / 100)
    last_steps = candidates[-1][0]
    for count in sorted({len(candidates), 4, 3}, reverse=True):
        if count > len(candidates):
            continue
        slope, intercept = fit(candidates[-count:])
        ahead = projected_bd_rate(slope, intercept, last_steps + args.ahead)
        reached = f"{math.exp((target - intercept) / slope):,.0f} steps" if slope < 0 else "never"
        print(
            f"last {count} candidates: {100 * math.expm1(slope * math.log(2)):+.1f}% of (1 + BD)"
            f" per doubling; at {last_steps + args.ahead:,.0f} steps {ahead:+.1f}%;"
            f" {args.target:g}% at {reached}"
        )


if __name__ == "__main__":
    main()
