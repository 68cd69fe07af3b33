"""The released beta-VAE's checks (`python -m zoo.releases.checks --fixed_models=BETA=DIR,...`).

With fixed-beta runs of as many steps, the total loss of the one YOTO model against each
fixed model at its beta, on MNIST's test split.
"""

from __future__ import annotations

import zoo
from zoo import loading
from zoo.loading.releases import result

VAE_COMPARISON_TOLERANCE = 0.03


def run_checks(spec, output_dir, command: str, options: dict) -> list[dict]:
    """The task's release checks (`Task.release_checks`): `beta_vae_checks`.

    `options`: the release checks' flags by name; this task needs `fixed_models`
    (BETA=DIR,...). Writes no figures to `output_dir`.
    """
    del output_dir
    fixed = _parse_fixed_models(options.get("fixed_models"))
    if not fixed:
        raise ValueError("beta_vae checks need --fixed_models=BETA=DIR,...")
    return beta_vae_checks(spec, fixed, command)


def beta_vae_checks(spec, fixed_models: dict[float, str], command: str) -> list[dict]:
    """The released beta-VAE against fixed-beta runs of as many steps, each at its beta."""
    from zoo.evaluation import evaluate_lib

    task = zoo.get_task("beta_vae")
    for beta, model_dir in fixed_models.items():
        _, config, _ = loading.load_run(model_dir)
        if getattr(config, "fixed_beta", None) != beta:
            trained = getattr(config, "fixed_beta", None)
            raise ValueError(
                f"--fixed_models pairs beta {beta:g} with {model_dir}, which was trained "
                + ("with beta sampled (a YOTO run)" if trained is None else f"at beta {trained:g}")
                + ": pair each beta with the run trained at it (--config=fixed_beta=BETA)."
            )
    images = task.evaluation_images()
    yoto = evaluate_lib.terms_fn_for(spec, task)
    results = []
    for beta, model_dir in sorted(fixed_models.items()):
        fixed = evaluate_lib.terms_fn_for(model_dir, task)
        (ours,) = evaluate_lib.evaluate_grid(yoto, images, [beta], task)
        (theirs,) = evaluate_lib.evaluate_grid(fixed, images, [beta], task)
        ratio = ours["total"] / theirs["total"]
        results.append(
            result(
                f"total loss at beta {beta:g}: YOTO / fixed-beta model "
                f"(aim within {VAE_COMPARISON_TOLERANCE:.0%})",
                f"{ours['total']:.2f} / {theirs['total']:.2f} = {ratio:.4f}",
                abs(ratio - 1) <= VAE_COMPARISON_TOLERANCE,
                command,
            )
        )
    return results


def _parse_fixed_models(text: str | None) -> dict[float, str]:
    if not text:
        return {}
    fixed = {}
    for item in text.split(","):
        beta, equals, model_dir = item.partition("=")
        try:
            fixed[float(beta)] = model_dir
        except ValueError:
            equals = ""
        if not equals or not model_dir:
            raise ValueError(f"--fixed_models expects BETA=DIR,..., got {item!r}.")
    return fixed
