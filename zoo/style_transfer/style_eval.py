"""Evaluates an adjustable style-transfer model: a picture grid and loss terms over weight grids.

    python -m zoo.style_transfer.style_eval --model=runs/serving/style_transfer/1 \
        --output_dir=runs/style_eval

1. `grid.png`: rows are content weights, columns single styles 1..4 and an even
   blend (style strength --strength), on a held-out photograph.
2. On the held-out photographs (centre crops), the output's loss terms when one
   weight moves over a grid and the others stay put: style i's weight alone
   (content fixed at --content), and the content weight (style_1 fixed at
   --strength). Prints the tables, says whether each term falls monotonically as
   its weight rises, and writes `terms.csv`.
--model is an exported SavedModel (what is served) or a training dir. With
--compare, fixed-weight models are evaluated at their own weights beside it.
"""

from __future__ import annotations

import pathlib
import sys

from absl import flags

from zoo import flags_util


def _define(flag_values):
    flags.DEFINE_string(
        "model",
        None,
        "SavedModel version dir or training dir.",
        flag_values=flag_values,
        required=True,
    )
    flags.DEFINE_string(
        "output_dir",
        None,
        "Where grid.png and terms.csv go.",
        flag_values=flag_values,
        required=True,
    )
    flags.DEFINE_list(
        "content_grid",
        ["0.1", "0.3", "1", "3", "10"],
        "Content weights.",
        flag_values=flag_values,
    )
    flags.DEFINE_list(
        "style_grid", ["0.1", "0.3", "1", "3", "10"], "Style strengths.", flag_values=flag_values
    )
    flags.DEFINE_float(
        "content", 1.0, "Content weight while a style weight moves.", flag_values=flag_values
    )
    flags.DEFINE_float(
        "strength", 1.0, "Style strength while the content weight moves.", flag_values=flag_values
    )
    flags.DEFINE_integer("size", 256, "Side of the held-out centre crops.", flag_values=flag_values)
    flags.DEFINE_multi_string(
        "compare",
        [],
        "A fixed-weight model to compare at its own weights: LABEL=PATH@c,s1,s2,s3,s4 "
        "(repeatable).",
        flag_values=flag_values,
    )


COMMAND = flags_util.Command("Evaluate an adjustable style-transfer model.", _define)


def run(argv=None) -> int:
    """Renders the grid, evaluates the sweeps, prints and writes the results.

    Returns the exit status: 0, or 2 with a message on stderr for a bad command line,
    grid, model or comparison.
    """
    args, _ = flags_util.parse_command_line(
        "python -m zoo.style_transfer.style_eval", __doc__.strip(), COMMAND, argv
    )
    flags_util.import_tensorflow_quietly()
    from zoo import atomic, tables
    from zoo.style_transfer import data as style_data
    from zoo.style_transfer.style_eval_lib import (
        compare_fixed,
        evaluate_sweeps,
        falls_monotonically,
        parse_comparison,
        render_grid,
        sweeps,
    )
    from zoo.style_transfer.stylizer import Stylizer

    try:
        content_grid = flags_util.parse_grid(",".join(args.content_grid))
        style_grid = flags_util.parse_grid(",".join(args.style_grid))
        stylizer = Stylizer.load(args.model)
        images = style_data.evaluation_images(size=args.size)
        output = pathlib.Path(args.output_dir)
        render_grid(stylizer, images[0], content_grid, args.strength, output / "grid.png")
        weight_sweeps = sweeps(content_grid, style_grid, args.content, args.strength)
        rows = evaluate_sweeps(stylizer, images, weight_sweeps)
        comparisons = [parse_comparison(text) for text in args.compare]
        compared = compare_fixed(stylizer, images, comparisons)
    except (ValueError, FileNotFoundError) as error:
        print(f"style_eval: error: {error}", file=sys.stderr)
        return 2
    for term in weight_sweeps:
        print(tables.format_table([r for r in rows if r["sweep"] == term], label=term))
        print(f"{term} falls monotonically as its weight rises: {falls_monotonically(rows, term)}")
    if compared:
        print(tables.format_table(compared))
    atomic.write_text(output / "terms.csv", tables.rows_to_csv({"yoto": rows}))
    if compared:
        atomic.write_text(output / "compare.csv", tables.rows_to_csv({"": compared}))
    print(f"wrote {output / 'grid.png'} and {output / 'terms.csv'}")
    return 0


if __name__ == "__main__":
    sys.exit(run())
