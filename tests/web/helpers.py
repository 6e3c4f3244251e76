"""Test helpers for the HTTP API: generated media, an API client holding one token per role,
and a small local HTTP server for remote-fetch tests (127.0.0.1 only, stops by itself)."""

from __future__ import annotations

import contextlib
import http.server
import io
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import av
import numpy as np
from fastapi.testclient import TestClient
from PIL import Image, ImageDraw
from sqlalchemy import Engine

from iolaus.config import Settings
from iolaus.model.access import Role
from iolaus.store.tokens import create_token, list_tokens
from iolaus.web import create_app

# -- generated media (noise, gradients and shapes only) -----------------------------------------


def picture(seed: int = 0, size: tuple[int, int] = (320, 240)) -> Image.Image:
    rng = np.random.default_rng(seed)
    image = Image.fromarray(rng.integers(0, 256, (5, 7, 3), dtype=np.uint8)).resize(
        size, Image.Resampling.BICUBIC
    )
    draw = ImageDraw.Draw(image)
    w, h = size
    draw.ellipse([w // 6, h // 5, w // 2, h // 2], fill=(240, 200, 30))
    draw.rectangle([w // 2, h // 2, w - 15, h - 15], fill=(30, 40, 190))
    return image


def encode(image: Image.Image, fmt: str = "PNG", **options: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def png(seed: int = 0) -> bytes:
    return encode(picture(seed))


def near_duplicate(seed: int = 0) -> bytes:
    """The same picture, smaller and as a JPEG: other bytes, a nearby PDQ hash."""
    return encode(picture(seed).resize((240, 180)), "JPEG", quality=80)


def plain_png() -> bytes:
    """A flat grey picture: PDQ quality 0, so HMA's empty PDQ hash."""
    return encode(Image.new("RGB", (200, 200), (128, 128, 128)))


def video(path: Path, seconds: int = 1) -> bytes:
    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream("mpeg4", rate=4)
        stream.width, stream.height, stream.pix_fmt = 160, 120, "yuv420p"
        for second in range(seconds * 4):
            rgb = np.asarray(picture(second // 4, (160, 120)))
            container.mux(stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")))
        container.mux(stream.encode())
    return path.read_bytes()


def random_pdq(seed: int) -> str:
    return np.random.default_rng(seed).integers(0, 256, 32, dtype=np.uint8).tobytes().hex()


# -- the API with a token per role --------------------------------------------------------------


@dataclass
class Api:
    client: TestClient
    tokens: dict[Role, str] = field(default_factory=dict)

    def headers(self, role: Role | None = Role.ADMIN) -> dict[str, str]:
        return {} if role is None else {"Authorization": f"Bearer {self.tokens[role]}"}

    def call(self, method: str, path: str, role: Role | None = Role.ADMIN, **kwargs: Any) -> Any:
        headers = {**self.headers(role), **kwargs.pop("headers", {})}
        return self.client.request(method, path, headers=headers, **kwargs)

    def get(self, path: str, role: Role | None = Role.ADMIN, **kwargs: Any) -> Any:
        return self.call("GET", path, role, **kwargs)

    def post(self, path: str, role: Role | None = Role.ADMIN, **kwargs: Any) -> Any:
        return self.call("POST", path, role, **kwargs)

    def put(self, path: str, role: Role | None = Role.ADMIN, **kwargs: Any) -> Any:
        return self.call("PUT", path, role, **kwargs)

    def delete(self, path: str, role: Role | None = Role.ADMIN, **kwargs: Any) -> Any:
        return self.call("DELETE", path, role, **kwargs)


def make_api(engine: Engine, **settings: Any) -> Api:
    options = {"fetch_allowed_hosts": ("127.0.0.1",), "max_file_size": 2 * 1024 * 1024}
    with engine.begin() as conn:
        taken = len(list_tokens(conn))  # a second API on the same database gets other names
        suffix = f"-{taken}" if taken else ""
        tokens = {role: create_token(conn, f"{role}-client{suffix}", role)[1] for role in Role}
    app = create_app(engine, Settings(**{**options, **settings}))
    return Api(TestClient(app), tokens)


# -- a local HTTP server ------------------------------------------------------------------------

Route = tuple[int, dict[str, str], bytes | Callable[[], Iterator[bytes]]]


@dataclass
class LocalServer:
    port: int
    hits: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@contextlib.contextmanager
def local_server(routes: dict[str, Route], lifetime: float = 60.0) -> Iterator[LocalServer]:
    """Serve ``routes`` (path → status, headers, body or chunk generator) on 127.0.0.1.

    A body given as a generator is sent without Content-Length (ended by closing the
    connection). The server shuts down when the block ends, or after ``lifetime`` seconds."""
    state = LocalServer(port=0)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # the http.server API names it
            state.hits.append(self.path)
            status, headers, body = routes.get(self.path, (404, {}, b"not found"))
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            if isinstance(body, bytes):
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            self.end_headers()
            with contextlib.suppress(OSError):  # the client hangs up once it has enough
                for chunk in body():
                    self.wfile.write(chunk)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    timer = threading.Timer(lifetime, server.shutdown)
    thread.start()
    timer.start()
    try:
        yield state
    finally:
        timer.cancel()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
