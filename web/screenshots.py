"""Screenshots of the three tabs and the latency per update, in headless Chromium.

    python -m web.screenshots [--output_dir=runs/web/screenshots] [--moves=7]
    python -m web.screenshots --url=http://127.0.0.1:8040    # a running `make web`

Starts the app in this process on a free 127.0.0.1 port (exporting the releases first
if --serving_dir has not got them), opens each tab, moves its first slider --moves
times across its range (one update each, waiting for everything to be drawn), prints the
medians of the latencies the page measured (to the first picture, and in all: the codec
draws its decoded image before the JPEG/WebP/AVIF comparison), and writes `<tab>.png` and
`latency.json`. Needs
Debian's chromium and chromium-driver (`sudo make browser`).
"""

from __future__ import annotations

import json
import pathlib

from absl import app, flags

from zoo.flags_util import import_tensorflow_quietly

import_tensorflow_quietly()

flags.DEFINE_string("output_dir", "runs/web/screenshots", "Where the PNGs and latency go.")
flags.DEFINE_string("serving_dir", "runs/web/serving", "The releases' export (made if missing).")
flags.DEFINE_integer("moves", 7, "Slider moves per tab (updates timed).")
flags.DEFINE_string("url", None, "A running app's URL (make web) instead of starting one.")
FLAGS = flags.FLAGS


def capture(base_url: str, output_dir, moves: int = 7) -> dict:
    """Drives each tab in Chromium; `{tab: {"latencies_ms", "median_ms", "screenshot"}}`."""
    import numpy as np

    from web import page
    from web.browser import Browser
    from zoo import atomic

    output_dir = pathlib.Path(output_dir)
    results = {}
    # Slider positions spread over the range, in an order that makes every move change it.
    fractions = list(np.linspace(0.05, 0.95, moves)[np.argsort(np.arange(moves) % 2)])
    with Browser.start(width=1400, height=1150) as browser:
        for tab in page.TABS:
            page.open_tab(browser, base_url, tab)
            selector = page.SLIDERS[tab][0]
            latencies = page.measure_latency(browser, tab, selector, fractions)
            # Leave the slider somewhere telling for the picture a person looks at.
            page.move(browser, tab, selector, {"codec": 0.35, "style": 0.6, "vae": 0.6}[tab])
            if tab == "style":
                page.move(browser, tab, "#style-s2", 0.6)
            shot = browser.screenshot(output_dir / f"{tab}.png")
            results[tab] = {
                "slider": selector,
                "latencies_ms": latencies,
                "median_first_ms": page.median([m["first_ms"] for m in latencies]),
                "median_ms": page.median([m["last_ms"] for m in latencies]),
                "screenshot": str(shot),
                "status_line": page.status(browser, tab)["text"],
            }
    atomic.write_text(output_dir / "latency.json", json.dumps(results, indent=1))
    return results


def main(argv):
    """Starts the app, captures, prints the medians."""
    del argv
    import threading

    from web import server

    if FLAGS.url:
        results = capture(FLAGS.url.rstrip("/"), FLAGS.output_dir, FLAGS.moves)
    else:
        httpd, url = server.start(FLAGS.serving_dir, 0)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        try:
            results = capture(url, FLAGS.output_dir, FLAGS.moves)
        finally:
            httpd.shutdown()
    for tab, result in results.items():
        each = ", ".join(f"{m['first_ms']:.0f}/{m['last_ms']:.0f}" for m in result["latencies_ms"])
        print(
            f"{tab:>6}: median {result['median_first_ms']:.0f} ms to the picture, "
            f"{result['median_ms']:.0f} ms in all, per update (picture/all: {each}); "
            f"{result['screenshot']}"
        )
    return 0


if __name__ == "__main__":
    app.run(main)
