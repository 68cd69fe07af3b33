"""Rate-distortion evaluation of YOTO codecs against JPEG, WebP and AVIF, from real bytes.

    python -m zoo.compression.codec_eval --models=runs/codec --output_dir=runs/codec_eval

For each lambda of the grid, every photograph of the evaluation set
(`zoo.compression.data.evaluation_set`: whole photographs that no training reads, in
subsets) is encoded to a .yoto file: bits per pixel come from the file's length, PSNR and
MS-SSIM from decoding it. JPEG, WebP and AVIF go through Pillow quality sweeps on the
same photographs. Prints the set's mean curves, then per subset and for the whole set
(`all`, every photograph weighted alike) the BD-rate (PSNR and MS-SSIM) of each model
against each baseline (`--bd_method`: piecewise cubic by default), its top PSNR and
whether bits and PSNR rise with lambda; writes rd.csv (every subset's curves), bd_rates.csv
(that table), rd.png (the set's mean) and rd_SUBSET.png.

`--photos=validation` measures on the validation split of the training sources instead,
for training choices (schedules, widths, weightings), which must never be made on the
evaluation set. `--image_folder` measures on a folder of the user's images (one subset).
`--refine_steps` encodes with latent refinement (every learned codec alike).
"""

from __future__ import annotations

import functools
import pathlib
import sys

from absl import flags

from zoo import flags_util

FIXED_LABEL = "fixed-lambda models"


def _define(flag_values):
    # The BD-rate methods are yoto_tf.metrics', which imports TensorFlow: quietly and first,
    # and only once a command line is parsed (importing this module stays light).
    flags_util.import_tensorflow_quietly()
    from yoto_tf.metrics import BD_RATE_METHODS

    flags.DEFINE_list(
        "models", None, "Compression training dirs to evaluate.", flag_values=flag_values
    )
    flags.DEFINE_list(
        "labels", None, "A label per model (default: the dir names).", flag_values=flag_values
    )
    flags.DEFINE_list(
        "fixed_models",
        None,
        "Fixed-lambda compression training dirs (--config=fixed_lmbda=...): together one curve, "
        "each model at its own lambda.",
        flag_values=flag_values,
    )
    flags.DEFINE_string(
        "grid",
        None,
        "Comma-separated lambdas (default: 8 log-spaced in range).",
        flag_values=flag_values,
    )
    flags.DEFINE_string(
        "image_folder",
        None,
        "Evaluate on these images (one subset) instead of --photos.",
        flag_values=flag_values,
    )
    flags.DEFINE_enum(
        "photos",
        "evaluation",
        ["evaluation", "validation"],
        "The evaluation set, or the validation split of the training sources (for training "
        "choices; module docstring).",
        flag_values=flag_values,
    )
    flags.DEFINE_list(
        "subsets",
        None,
        "Only these subsets of --photos (default: all; e.g. held_out, to add a subset to an "
        "earlier run's).",
        flag_values=flag_values,
    )
    flags.DEFINE_string(
        "output_dir",
        None,
        "Where to write rd.csv, bd_rates.csv and the plots.",
        flag_values=flag_values,
    )
    flags.DEFINE_integer(
        "refine_steps",
        0,
        "Encode every learned codec (YOTO and fixed) with this many latent-refinement steps "
        "per image and lambda (zoo/compression/latent_refinement.py; 0: the encoder's latents "
        "as they are).",
        flag_values=flag_values,
    )
    flags.DEFINE_bool(
        "estimated_bpp",
        True,
        "Also the entropy model's estimate of the bits (a model pass per image and lambda that "
        "costs about as much as encoding and decoding together).",
        flag_values=flag_values,
    )
    flags.DEFINE_enum(
        "bd_method",
        "pchip",
        list(BD_RATE_METHODS),
        "BD-rate interpolation: piecewise monotone cubic (VCEG-AL22, robust on flat curves) or "
        "one cubic polynomial per curve (VCEG-M33, this tool's method before 2026-11-26).",
        flag_values=flag_values,
    )


COMMAND = flags_util.Command("Rate-distortion evaluation of codecs from real bytes.", _define)


def run(argv=None) -> int:
    """Evaluates the models and the Pillow baselines; prints, writes CSV and plots.

    Returns the exit status: 0, or 2 with a message on stderr for a bad command line,
    model, grid or photo set (refused before any writing).
    """
    args, _ = flags_util.parse_command_line(
        "python -m zoo.compression.codec_eval", __doc__.strip(), COMMAND, argv
    )
    from zoo import atomic, tables
    from zoo.compression import codec, config, data
    from zoo.compression import codec_eval_lib as lib
    from zoo.data import photos

    try:
        if not args.models:
            raise ValueError("--models is required.")
        labels = args.labels or [pathlib.Path(m).name for m in args.models]
        grid = flags_util.parse_grid(args.grid) if args.grid else config.EVALUATION_GRID
        if args.image_folder:
            subsets = {"folder": photos.load_folder(args.image_folder)}
        else:
            chosen = data.evaluation_set() if args.photos == "evaluation" else data.validation_set()
            unknown = set(args.subsets or ()) - set(chosen)
            if unknown:
                raise ValueError(
                    f"--subsets={','.join(sorted(unknown))}: no such subset of the "
                    f"{args.photos} photographs; known: {', '.join(chosen)}."
                )
            subsets = {
                name: list(images.values())
                for name, images in chosen.items()
                if not args.subsets or name in args.subsets
            }
        evaluators = lib.baseline_evaluators()

        def load_codec(model_dir):
            from zoo import loading

            model, _, task_name = loading.restore_model(model_dir)
            if task_name != "compression":
                raise ValueError(f"{model_dir} holds a {task_name} model, not a codec.")
            return codec.Codec(model, refine_steps=args.refine_steps)

        for label, model_dir in zip(labels, args.models, strict=True):
            loaded = load_codec(model_dir)
            # Refused here, before minutes of evaluation, if the grid is outside its range.
            for lmbda in grid:
                loaded.check_lmbda(lmbda)
            evaluators[label] = functools.partial(
                lib.codec_curve, loaded, grid=grid, estimated=args.estimated_bpp
            )
        tests = list(labels)
        if args.fixed_models:
            fixed = [load_codec(model_dir) for model_dir in args.fixed_models]
            evaluators[FIXED_LABEL] = functools.partial(lib.fixed_codecs_curve, fixed)
            tests.append(FIXED_LABEL)
        by_subset = lib.evaluate_set(subsets, evaluators)
    except (ValueError, FileNotFoundError) as error:
        print(f"codec_eval: error: {error}", file=sys.stderr)
        return 2
    counts = {name: len(images) for name, images in subsets.items()}
    counts[lib.ALL] = sum(counts.values())
    whole = lib.ALL if lib.ALL in by_subset else next(iter(by_subset))
    curves = by_subset[whole]
    print(f"Mean curves over {counts[whole]} photographs ({', '.join(subsets)}):")
    for label, rows in curves.items():
        print(tables.format_table(rows, label=label))
    for label in labels:
        rows = curves[label]
        print(
            f"{label}: bpp rises with lambda: {lib.rises_with_lambda(rows, 'bpp')}; "
            f"PSNR rises with lambda: {lib.rises_with_lambda(rows, 'psnr')}"
        )
        for anchor, value in lib.bd_rates(curves, label, args.bd_method).items():
            print(f"BD-rate (PSNR, {args.bd_method}) of {label} against {anchor}: {value:+.1f}%")
    summary = lib.summary_rows(by_subset, tests, counts, args.bd_method)
    print(f"Per subset ({args.bd_method}; {lib.ALL}: every photograph weighted alike):")
    print(lib.format_summary(summary))
    if args.output_dir:
        output_dir = pathlib.Path(args.output_dir)
        every_curve = {
            label: [
                {"subset": subset, **row}
                for subset in by_subset
                for row in by_subset[subset][label]
            ]
            for label in curves
        }
        atomic.write_text(output_dir / "rd.csv", tables.rows_to_csv(every_curve))
        atomic.write_text(output_dir / "bd_rates.csv", tables.rows_to_csv({"": summary}))
        lib.plot(curves, output_dir / "rd.png")
        for subset in subsets if len(subsets) > 1 else ():
            lib.plot(by_subset[subset], output_dir / f"rd_{subset}.png")
        print(f"wrote rd.csv, bd_rates.csv and the plots to {output_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(run())
