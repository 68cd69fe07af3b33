"""Screenshots of the three tabs and the latency per update, in headless Chromium.

    python -m web.screenshots [--output_dir=runs/web/screenshots] [--moves=7]

Starts the app in this process on a free 127.0.0.1 port (exporting the releases first
if --serving_dir has not got them), opens each tab, moves its first slider --moves
times across its range (one update each, waiting for the picture), prints the median of
the latencies the page measured, and writes `<tab>.png` and `latency.json`. Needs
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
            page.move(browser, tab, selector, {"codec": 0.35, "style": 0.5, "vae": 0.5}[tab])
            if tab == "style":
                page.move(browser, tab, "#style-s2", 0.6)
            shot = browser.screenshot(output_dir / f"{tab}.png")
            results[tab] = {
                "slider": selector,
                "latencies_ms": latencies,
                "median_ms": page.median(latencies),
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

    httpd, url = server.start(FLAGS.serving_dir, 0)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        results = capture(url, FLAGS.output_dir, FLAGS.moves)
    finally:
        httpd.shutdown()
    for tab, result in results.items():
        shown = ", ".join(f"{v:.0f}" for v in result["latencies_ms"])
        print(
            f"{tab:>6}: median {result['median_ms']:.0f} ms per update ({shown}); "
            f"{result['screenshot']}"
        )
    return 0


if __name__ == "__main__":
    app.run(main)
