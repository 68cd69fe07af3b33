"""A small W3C WebDriver client for Debian's headless Chromium, on the standard library.

    with Browser.start() as browser:           # chromedriver + chromium, headless
        browser.get("http://127.0.0.1:8040/")
        slider = browser.find("#codec-lmbda")
        browser.click_at(slider, 0.8)           # a real pointer click at 80% of its width
        browser.screenshot("page.png")

WebDriver is plain JSON over HTTP to `chromedriver` (the protocol Selenium speaks), so
the page is driven by real input events in a real browser without Selenium's packages
(selenium 4 would add trio, trio-websocket, urllib3, wsproto and five more to the lock).
Nothing is downloaded: `make browser` installs Debian's `chromium` and `chromium-driver`
(as root), and `find_chromium` says what is missing when they are not there.
"""

from __future__ import annotations

import base64
import json
import pathlib
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

# W3C WebDriver's element reference key.
ELEMENT = "element-6066-11e4-a52e-4f735466cecf"
CHROMIUM_NAMES = ("chromium", "chromium-browser")
DRIVER_NAMES = ("chromedriver",)
INSTALL_HINT = "install Debian's chromium and chromium-driver as root: sudo make browser"


class WebDriverError(RuntimeError):
    """A WebDriver command failed: the error name and message chromedriver gave."""


def find_chromium() -> tuple[str, str] | str:
    """`(chromium, chromedriver)` paths, or a sentence saying what is missing and the fix."""
    browser = next((shutil.which(n) for n in CHROMIUM_NAMES if shutil.which(n)), None)
    driver = next((shutil.which(n) for n in DRIVER_NAMES if shutil.which(n)), None)
    if browser and driver:
        return browser, driver
    missing = [name for name, path in (("chromium", browser), ("chromedriver", driver)) if not path]
    return f"{' and '.join(missing)} not found on PATH; {INSTALL_HINT}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Browser:
    """One headless Chromium session through chromedriver; close() ends both."""

    def __init__(self, driver_process, base_url: str, session_id: str, profile: str):
        self._driver = driver_process
        self._base = base_url
        self._session = session_id
        self._profile = profile

    @classmethod
    def start(cls, width: int = 1400, height: int = 1000, timeout: float = 30.0) -> Browser:
        """Starts chromedriver on a free loopback port and a headless Chromium session."""
        found = find_chromium()
        if isinstance(found, str):
            raise FileNotFoundError(found)
        chromium, chromedriver = found
        port = _free_port()
        process = subprocess.Popen(
            [chromedriver, f"--port={port}", "--allowed-ips=127.0.0.1"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        profile = tempfile.mkdtemp(prefix="yoto-web-chromium-")
        deadline = time.monotonic() + timeout
        while True:
            try:
                _request("GET", base + "/status", None, 2.0)
                break
            except (OSError, WebDriverError):
                if time.monotonic() > deadline or process.poll() is not None:
                    process.kill()
                    raise WebDriverError(f"chromedriver did not start on port {port}") from None
                time.sleep(0.1)
        capabilities = {
            "capabilities": {
                "alwaysMatch": {
                    "browserName": "chrome",
                    "goog:chromeOptions": {
                        "binary": chromium,
                        "args": [
                            "--headless=new",
                            "--no-sandbox",  # Runs as root in CI.
                            "--disable-gpu",
                            "--disable-dev-shm-usage",
                            f"--window-size={width},{height}",
                            f"--user-data-dir={profile}",
                            "--no-first-run",
                        ],
                    },
                }
            }
        }
        try:
            session_id = _request("POST", base + "/session", capabilities, timeout)["value"][
                "sessionId"
            ]
        except BaseException:
            # Killing chromedriver alone would leave its Chromium running.
            subprocess.run(["pkill", "-P", str(process.pid)], check=False)
            process.kill()
            process.wait()
            shutil.rmtree(profile, ignore_errors=True)
            raise
        return cls(process, base, session_id, profile)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        """Ends the session, chromedriver and the temporary profile."""
        try:
            _request("DELETE", f"{self._base}/session/{self._session}", None, 10.0)
        except (OSError, WebDriverError):
            pass
        self._driver.terminate()
        try:
            self._driver.wait(10)
        except subprocess.TimeoutExpired:
            self._driver.kill()
        shutil.rmtree(self._profile, ignore_errors=True)

    def _command(self, method: str, path: str, body=None, timeout: float = 120.0):
        url = f"{self._base}/session/{self._session}{path}"
        return _request(method, url, body, timeout)["value"]

    def get(self, url: str):
        """Navigates to `url` and waits for the load event."""
        self._command("POST", "/url", {"url": url})

    def find(self, css: str) -> dict:
        """The first element matching the CSS selector (a WebDriver element reference)."""
        return self._command("POST", "/element", {"using": "css selector", "value": css})

    def execute(self, script: str, *args):
        """Runs `script` (a function body; `arguments` are `args`) in the page."""
        return self._command("POST", "/execute/sync", {"script": script, "args": list(args)})

    def click(self, element: dict):
        """A real click in the middle of `element`."""
        self._command("POST", f"/element/{element[ELEMENT]}/click", {})

    def send_keys(self, element: dict, text: str):
        """Types `text` into `element` (\\ue007 is Enter)."""
        self._command("POST", f"/element/{element[ELEMENT]}/value", {"text": text})

    def clear(self, element: dict):
        """Empties a text box."""
        self._command("POST", f"/element/{element[ELEMENT]}/clear", {})

    def upload(self, element: dict, path):
        """Chooses a file in an `<input type=file>` (chromedriver reads it from disk)."""
        self.send_keys(element, str(pathlib.Path(path).absolute()))

    def click_at(self, element: dict, fraction: float):
        """A pointer press and release at `fraction` of `element`'s width, mid-height.

        On a range input this moves the thumb there, as a person's click does, and the
        page gets the same input events.
        """
        rect = self._command("GET", f"/element/{element[ELEMENT]}/rect")
        # A range input's thumb travels between half a thumb's width from either end.
        inset = min(8.0, rect["width"] / 4)
        x = round(-rect["width"] / 2 + inset + fraction * (rect["width"] - 2 * inset))
        pointer = {
            "type": "pointer",
            "id": "mouse",
            "parameters": {"pointerType": "mouse"},
            "actions": [
                {"type": "pointerMove", "duration": 0, "origin": element, "x": x, "y": 0},
                {"type": "pointerDown", "button": 0},
                {"type": "pointerUp", "button": 0},
            ],
        }
        self._command("POST", "/actions", {"actions": [pointer]})
        self._command("DELETE", "/actions")

    def wait_for(self, script: str, *args, timeout: float = 120.0, interval: float = 0.05):
        """Polls `script` until it returns something truthy, and returns that (TimeoutError)."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.execute(script, *args)
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"waited {timeout:g} s for: {script}")
            time.sleep(interval)

    def screenshot(self, path) -> pathlib.Path:
        """Writes a PNG of the viewport to `path`."""
        from zoo import atomic

        data = base64.b64decode(self._command("GET", "/screenshot"))
        return atomic.write_bytes(path, data)

    def set_window_size(self, width: int, height: int):
        """Resizes the browser window (screenshots show the viewport)."""
        self._command("POST", "/window/rect", {"width": width, "height": height})


def _request(method: str, url: str, body, timeout: float) -> dict:
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"} if data is not None else {}
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:
            return json.loads(reply.read() or b"{}")
    except urllib.error.HTTPError as error:
        try:
            value = json.loads(error.read())["value"]
            message = f"{value.get('error')}: {value.get('message', '').splitlines()[0]}"
        except (ValueError, KeyError, AttributeError, IndexError):
            message = f"HTTP {error.code}"
        raise WebDriverError(message) from None
