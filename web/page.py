"""What a person does on the page, through a real browser: for the browser test and
`python -m web.screenshots`.

Each tab's status line carries `data-version` (updates drawn so far), `data-state`
(`busy` while a request is in flight or queued), `data-last-ms` (the last update's
latency as the browser measured it, request to everything drawn) and `data-first-ms`
(request to the first picture drawn: the codec draws its decoded image before the
JPEG/WebP/AVIF comparison; the other tabs draw once).
"""

from __future__ import annotations

import statistics

TABS = ("codec", "style", "vae")
SLIDERS = {
    "codec": ("#codec-lmbda",),
    "style": (
        "#style-content",
        "#style-strength",
        "#style-s1",
        "#style-s2",
        "#style-s3",
        "#style-s4",
    ),
    "vae": ("#vae-beta",),
}


def status(browser, tab: str) -> dict:
    """The tab's status line: version, state, last latency (ms), errors and error text."""
    return browser.execute(
        "const s = document.getElementById(arguments[0] + '-status');"
        "const e = document.getElementById(arguments[0] + '-error');"
        "return {version: Number(s.dataset.version), state: s.dataset.state,"
        " last_ms: Number(s.dataset.lastMs || 0), first_ms: Number(s.dataset.firstMs || 0),"
        " errors: Number(s.dataset.errors || 0),"
        " error: e.hidden ? '' : e.textContent, text: s.textContent};",
        tab,
    )


def wait_idle_after(browser, tab: str, version: int, errors: int = 0, timeout: float = 180.0):
    """Waits until the tab has drawn an update after `version` (or failed) and is idle."""
    browser.wait_for(
        "const s = document.getElementById(arguments[0] + '-status');"
        "return s.dataset.state === 'idle' && (Number(s.dataset.version) > arguments[1]"
        " || Number(s.dataset.errors || 0) > arguments[2]);",
        tab,
        version,
        errors,
        timeout=timeout,
    )
    return status(browser, tab)


def open_tab(browser, base_url: str, tab: str, timeout: float = 300.0) -> dict:
    """Loads the page on `tab` and waits for its first picture."""
    browser.get(f"{base_url}/#{tab}")
    browser.wait_for("return document.body.dataset.ready === 'true';", timeout=60)
    return wait_idle_after(browser, tab, 0, timeout=timeout)


def move(browser, tab: str, selector: str, fraction: float, timeout: float = 180.0) -> dict:
    """Clicks slider `selector` at `fraction` of its width and waits for the new picture."""
    before = status(browser, tab)
    value = "return document.querySelector(arguments[0]).value;"
    was = browser.execute(value, selector)
    browser.click_at(browser.find(selector), fraction)
    if browser.execute(value, selector) == was:
        raise ValueError(f"{selector} is already at {was}: a click there changes nothing")
    return wait_idle_after(browser, tab, before["version"], before["errors"], timeout)


def image_source(browser, selector: str) -> str:
    """An <img>'s current `src` (the page's pictures are data URLs)."""
    return browser.execute("return document.querySelector(arguments[0]).src;", selector)


def measure_latency(browser, tab: str, selector: str, fractions) -> list[dict]:
    """Moves one slider through `fractions`, one update each: `{first_ms, last_ms}` each."""
    latencies = []
    for fraction in fractions:
        state = move(browser, tab, selector, fraction)
        latencies.append({"first_ms": state["first_ms"], "last_ms": state["last_ms"]})
    return latencies


def median(values) -> float:
    """The median of `values`."""
    return float(statistics.median(values))
