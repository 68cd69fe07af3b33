"""The web app's HTTP server: the page, its static files and a JSON API, on 127.0.0.1 only.

Built on the standard library (`http.server.ThreadingHTTPServer`) and a plain HTML/JS page
with no CDN, not on Gradio: Gradio 6.31 (the newest) requires pillow<13, and this
project pins Pillow 13.0.0, whose AVIF encoder the codec tab compares against; it would
also add about 40 pinned packages (FastAPI, Starlette, Pydantic, pandas,
huggingface-hub, ...) to the lock for three tabs of sliders. This server is about 200
lines and needs nothing new.

    GET  /                      the page (web/static/index.html)
    GET  /static/NAME           its script and style sheet
    GET  /api/info              photos, ranges, style names and thumbnails, limits
    GET  /photo/ID.png?size=S   a photo's preview as the models see it
    POST /api/upload            raw image bytes -> {"photo": id, "notes": [...]}
    POST /api/codec             {"photo", "lmbda" | "target_bpp", "size", "crop_x", "crop_y"}
    POST /api/style             {"photo", "content", "styles": [4], "strength", "size"}
    POST /api/vae               {"beta"}
    GET  /download/KEY.yoto|png the last coded files (kept for the last 32 updates)

Every error is a JSON `{"error": message}`: 400 for bad input (the message names it), 404,
413 for an upload over the limit, 500 for anything unexpected (logged with its traceback);
the server keeps serving after each.
"""

from __future__ import annotations

import json
import logging
import math
import pathlib
import threading
import traceback
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from web import images as web_images
from web.images import BadInputError

HOST = "127.0.0.1"
STATIC = pathlib.Path(__file__).parent / "static"
STATIC_TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css"}
# JSON bodies of the update calls are small; uploads have their own limit.
MAX_JSON_BYTES = 64 * 1024
log = logging.getLogger("web")


class HttpError(Exception):
    """An answer other than 200: the HTTP status and the message for the page."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def _finite(value):
    """`value` with non-finite floats as None (JSON has no infinity; PSNR of a copy is)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    return value


class Handler(BaseHTTPRequestHandler):
    """Routes one request to the app; every failure becomes a JSON error, never a crash."""

    app = None  # set by `make_server`
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # noqa: A002  The http.server hook's signature.
        """Request lines go to the `web` logger at debug level, not to stderr."""
        log.debug("%s " + format, self.address_string(), *args)

    def do_GET(self):  # noqa: N802  The http.server hook's name.
        """The page, static files, /api/info, photo previews and downloads."""
        self._answer(self._get)

    def do_POST(self):  # noqa: N802  The http.server hook's name.
        """Uploads and the three tabs' updates."""
        self._answer(self._post)

    def _answer(self, route):
        try:
            status, content_type, body, extra = route()
        except HttpError as error:
            status, content_type, body, extra = self._error(error.status, error.message)
        except BadInputError as error:
            status, content_type, body, extra = self._error(400, str(error))
        except Exception as error:  # noqa: BLE001  The server must outlive any one request.
            log.error("internal error on %s:\n%s", self.path, traceback.format_exc())
            status, content_type, body, extra = self._error(
                500, f"Internal error ({type(error).__name__}: {error}); the server keeps running."
            )
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for name, value in extra.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    @staticmethod
    def _json(payload, status: int = 200):
        body = json.dumps(_finite(payload), allow_nan=False).encode()
        return status, "application/json", body, {}

    def _error(self, status: int, message: str):
        # An unread request body would be taken for the next request on this connection.
        self.close_connection = True
        return self._json({"error": message}, status)

    def _get(self):
        url = urllib.parse.urlsplit(self.path)
        path, query = url.path, urllib.parse.parse_qs(url.query)
        if path in ("/", "/index.html"):
            return self._static("index.html")
        if path.startswith("/static/"):
            return self._static(path[len("/static/") :])
        if path == "/api/info":
            return self._json(self.app.info())
        if path.startswith("/photo/") and path.endswith(".png"):
            side = query.get("size", [None])[0]
            side = None if side is None else web_images.check_preview_side(side)
            image = self.app.photo(path[len("/photo/") : -len(".png")], side)
            return 200, "image/png", web_images.png_bytes(image), {}
        if path.startswith("/download/"):
            return self._download(path[len("/download/") :])
        raise HttpError(404, f"Nothing at {path}.")

    def _static(self, name: str):
        path = (STATIC / name).resolve()
        if path.parent != STATIC.resolve() or not path.is_file():
            raise HttpError(404, f"No static file {name!r}.")
        content_type = STATIC_TYPES.get(path.suffix, "application/octet-stream")
        return 200, content_type + "; charset=utf-8", path.read_bytes(), {}

    def _download(self, name: str):
        key, _, suffix = name.rpartition(".")
        result = self.app.result(key)
        if result is None or suffix not in ("yoto", "png"):
            raise HttpError(
                404, f"No coded file {name!r}: files are kept for the last updates only."
            )
        content_type = "image/png" if suffix == "png" else "application/octet-stream"
        disposition = f'attachment; filename="{result["name"]}.{suffix}"'
        return 200, content_type, result[suffix], {"Content-Disposition": disposition}

    def _body(self, limit: int) -> bytes:
        length = self.headers.get("Content-Length")
        if length is None:
            raise HttpError(411, "The request needs a Content-Length header.")
        try:
            length = int(length)
        except ValueError:
            raise HttpError(400, f"Content-Length {length!r} is not a number.") from None
        if length > limit:
            raise HttpError(
                413,
                f"The request is {length / 2**20:.1f} MiB; the limit is {limit / 2**20:g} MiB"
                + (": upload a smaller image." if limit == web_images.MAX_UPLOAD_BYTES else "."),
            )
        return self.rfile.read(length)

    def _post(self):
        path = urllib.parse.urlsplit(self.path).path
        if path == "/api/upload":
            return self._json(self.app.upload(self._body(web_images.MAX_UPLOAD_BYTES)))
        tabs = {
            "/api/codec": self.app.codec,
            "/api/style": self.app.style,
            "/api/vae": self.app.vae,
        }
        if path not in tabs:
            raise HttpError(404, f"Nothing to POST at {path}.")
        body = self._body(MAX_JSON_BYTES)
        try:
            params = json.loads(body or b"{}")
        except ValueError as error:
            raise HttpError(400, f"The request body is not JSON ({error}).") from None
        if not isinstance(params, dict):
            raise HttpError(400, "The request body must be a JSON object of parameters.")
        return self._json(tabs[path](params))


def make_server(app, port: int = 0) -> ThreadingHTTPServer:
    """A server for `app` (`web.app.App`) on 127.0.0.1:`port` (0: a free port), not started."""
    handler = type("BoundHandler", (Handler,), {"app": app})
    server = ThreadingHTTPServer((HOST, port), handler)
    server.daemon_threads = True
    return server


def serve_in_thread(app, port: int = 0) -> tuple[ThreadingHTTPServer, str]:
    """Starts a server in a daemon thread; `(server, "http://127.0.0.1:PORT")`.

    `server.shutdown()` stops it.
    """
    server = make_server(app, port)
    threading.Thread(target=server.serve_forever, daemon=True, name="web-server").start()
    return server, f"http://{HOST}:{server.server_address[1]}"


def start(serving_dir, port: int = 0, log=print, **connection) -> tuple[ThreadingHTTPServer, str]:
    """Loads the models (`web.models.Models.load`, `connection` its grpc/rest/timeout),
    runs one update per tab so the first slider move is not the one that traces the
    graphs, and returns the server, not yet serving, with its URL.
    """
    from web.app import App
    from web.models import Models

    app = App(Models.load(serving_dir, log=log, **connection))
    log("warming up the three models ...")
    app.warm_up()
    server = make_server(app, port)
    return server, f"http://{HOST}:{server.server_address[1]}"
