"""Evaluating an adjustable style-transfer model: weight sweeps of its loss terms, fixed-weight
comparisons, and the picture grid (used by `zoo.style_transfer.style_eval`, the release checks
and the demo)."""

from __future__ import annotations

BLEND = (0.25, 0.25, 0.25, 0.25)


def sweeps(content_grid, style_grid, content, strength) -> dict[str, list[list[float]]]:
    """Weight vectors per sweep: name -> list of [content, s1, s2, s3, s4]."""
    result = {}
    for style in range(4):
        rows = []
        for value in style_grid:
            styles = [0.0] * 4
            styles[style] = value
            rows.append([content, *styles])
        result[f"style_{style + 1}"] = rows
    result["content"] = [[value, strength, 0.0, 0.0, 0.0] for value in content_grid]
    return result


def evaluate_sweeps(stylizer, images, weight_sweeps) -> list[dict]:
    """Mean loss terms over `images` for every weight vector of every sweep."""
    import numpy as np

    from zoo.style_transfer import config as style_config

    rows = []
    for term, vectors in weight_sweeps.items():
        for vector in vectors:
            terms = stylizer.loss_terms(images, [vector] * len(images))
            row = {"sweep": term, "weights": ",".join(f"{w:g}" for w in vector)}
            # In the terms' own order: the signature's output dict comes back in no fixed order.
            row.update({name: float(np.mean(terms[name])) for name in style_config.TERM_NAMES})
            rows.append(row)
    return rows


def colour_statistics(output, photo) -> tuple[float, float]:
    """(mean-colour error in levels, contrast ratio) of `output` against `photo`, `[H, W, 3]`.

    The error is the distance between the two images' per-channel means on 0..255; the
    contrast the output's per-channel standard deviation over the photograph's, averaged
    over R, G and B.
    """
    import numpy as np

    output, photo = np.asarray(output, np.float64), np.asarray(photo, np.float64)
    axes = (0, 1)
    error = float(np.linalg.norm(output.mean(axis=axes) - photo.mean(axis=axes)))
    contrast = float(np.mean(output.std(axis=axes) / np.maximum(photo.std(axis=axes), 1e-6)))
    return error, contrast


def colour_errors(stylizer, images, content: float) -> list[float]:
    """Mean-colour errors (`colour_statistics`) of every image under each style alone at 1.

    One per (style, image), styles outer, at content weight `content`: where the content
    weight is high the objective's optimum is the photograph itself, colours included.
    """
    from zoo.style_transfer import config as style_config

    errors = []
    for style in range(len(style_config.STYLE_TERMS)):
        vector = [content] + [1.0 if index == style else 0.0 for index in range(4)]
        for image in images:
            errors.append(colour_statistics(stylizer.stylize(image, vector), image)[0])
    return errors


def falls_monotonically(rows, term) -> bool:
    """Whether `term` strictly falls along its own sweep (rows in weight order)."""
    values = [row[term] for row in rows if row["sweep"] == term]
    return all(later < earlier for earlier, later in zip(values[:-1], values[1:], strict=True))


def parse_comparison(text: str) -> tuple[str, str, list[float]]:
    """'label=path@1,1,0,0,0' -> (label, path, weights), or ValueError naming the format."""
    from zoo.style_transfer.stylizer import parse_weights

    label, equals, rest = text.partition("=")
    path, at, weights = rest.rpartition("@")
    if not (equals and at and label and path):
        raise ValueError(f"--compare expects LABEL=PATH@c,s1,s2,s3,s4, got {text!r}.")
    return label, path, parse_weights(weights)


def compare_fixed(stylizer, images, comparisons) -> list[dict]:
    """Each term of the YOTO model beside each fixed model's, at the fixed model's weights.

    The total is the weighted sum of the five conditioned terms; tv has the same small
    constant weight in both models and is left out of it.
    """
    import numpy as np

    from zoo.style_transfer import config as style_config
    from zoo.style_transfer.stylizer import Stylizer

    def row(label, term, yoto, fixed):
        ratio = yoto / fixed if fixed else float("nan")
        return {"comparison": label, "term": term, "yoto": yoto, "fixed": fixed, "ratio": ratio}

    rows = []
    for label, path, weights in comparisons:
        batch = [weights] * len(images)
        terms = {
            "yoto": stylizer.loss_terms(images, batch),
            "fixed": Stylizer.load(path).loss_terms(images, batch),
        }
        means = {k: {n: float(np.mean(v)) for n, v in t.items()} for k, t in terms.items()}
        for name in style_config.TERM_NAMES:
            rows.append(row(label, name, means["yoto"][name], means["fixed"][name]))
        totals = {
            key: sum(
                w * mean[n] for w, n in zip(weights, style_config.CONDITIONED_TERMS, strict=True)
            )
            for key, mean in means.items()
        }
        rows.append(row(label, "total", totals["yoto"], totals["fixed"]))
    return rows


def render_grid(stylizer, image, content_grid, strength, path) -> None:
    """Rows: content weights; columns: the input, single styles 1..4, the even blend.

    Above them, a row with the style images the model records (exports carry
    them), at the scale the loss network saw them, so each column can be judged
    against its style.
    """
    from zoo import figures

    plt = figures.pyplot()

    columns = [[strength if i == s else 0.0 for i in range(4)] for s in range(4)]
    columns.append([strength * b for b in BLEND])
    names = [name for name, _ in stylizer.styles]
    titles = ["input"]
    titles += [f"style {i}" + (f": {name}" if name else "") for i, name in enumerate(names, 1)]
    titles.append("blend")
    style_row = any(picture is not None for _, picture in stylizer.styles)
    rows = len(content_grid) + style_row
    figure, axes = plt.subplots(
        rows, len(titles), figsize=(2 * len(titles), 2 * rows), squeeze=False
    )
    if style_row:
        side = image.shape[0]
        for c, (_, picture) in enumerate(stylizer.styles, start=1):
            if picture is not None:
                # A crop the size of the content image: textures at the scale they were learnt.
                axes[0, c].imshow(picture[:side, :side])
        axes[0, 0].set_ylabel("style image", fontsize=9)
    for r, content in enumerate(content_grid, start=style_row):
        pictures = [image] + [stylizer.stylize(image, [content, *c]) for c in columns]
        for c, picture in enumerate(pictures):
            axes[r, c].imshow(picture)
        axes[r, 0].set_ylabel(f"content {content:g}", fontsize=9)
    for c, title in enumerate(titles):
        axes[0, c].set_title(title, fontsize=9)
    for axis in axes.flat:
        axis.set_xticks([])
        axis.set_yticks([])
        if not axis.images:  # The style row's input and blend cells.
            axis.axis("off")
    figure.tight_layout()
    figures.write_png(path, figure, dpi=80)
