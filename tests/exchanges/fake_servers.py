"""Local stand-ins for the NCMEC and StopNCII servers, and a probe of the whole database.

Each fake is a ``ThreadingHTTPServer`` on 127.0.0.1, port 0, in a daemon thread, started by
``with fake.running() as url`` and shut down when the block ends. It answers at most
``MAX_REQUESTS`` requests (410 afterwards), so a runaway paging loop fails fast instead of
hanging the suite. Fakes check credentials like the real services (401 without them) and log
every request for assertions.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit
from xml.sax.saxutils import escape, quoteattr

from sqlalchemy import Engine, LargeBinary, select

from iolaus.store.tables import metadata

MAX_REQUESTS = 200


@dataclass
class Seen:
    path: str
    query: dict[str, str]
    headers: dict[str, str]


class FakeServer:
    """What a fake serves and what it saw; subclasses implement ``respond``."""

    def __init__(self) -> None:
        self.requests: list[Seen] = []
        self.fail_next: list[int] = []  # statuses answered, in order, before real answers
        self._lock = threading.Lock()

    def respond(self, seen: Seen) -> tuple[int, str, bytes]:
        raise NotImplementedError

    def handle(self, raw_path: str, headers: dict[str, str]) -> tuple[int, str, bytes]:
        parts = urlsplit(raw_path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        seen = Seen(parts.path, query, headers)
        with self._lock:
            self.requests.append(seen)
            if len(self.requests) > MAX_REQUESTS:
                return 410, "text/plain", b"request budget exhausted"
            if self.fail_next:
                return self.fail_next.pop(0), "text/plain", b"try again"
        return self.respond(seen)

    @contextmanager
    def running(self) -> Iterator[str]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, content_type, body = fake.handle(self.path, headers)
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_port}"
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)


# -- NCMEC -------------------------------------------------------------------------------------

NCMEC_DATE = "%Y-%m-%dT%H:%M:%SZ"
NCMEC_BASE_PATH = "/hashsharing"  # as on report.cybertip.org: paging links are relative to it


def ncmec_date(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime(NCMEC_DATE)


@dataclass
class Entry:
    entry_id: str
    member: int
    kind: str  # image | video
    timestamp: int
    fingerprints: dict[str, str] = field(default_factory=dict)
    classification: str | None = None
    feedback_xml: str = ""
    deleted: bool = False

    @property
    def key(self) -> str:
        return f"{self.member}-{self.entry_id}"

    def xml(self) -> str:
        tag = ("deleted" + self.kind.capitalize()) if self.deleted else self.kind
        parts = [
            f"<id>{escape(self.entry_id)}</id>",
            f'<member id="{self.member}">Member {self.member}</member>',
            f"<timestamp>{ncmec_date(self.timestamp)}</timestamp>",
        ]
        if not self.deleted:
            if self.classification:
                parts.append(f"<classification>{self.classification}</classification>")
            prints = "".join(f"<{k}>{v}</{k}>" for k, v in self.fingerprints.items())
            parts.append(f"<fingerprints>{prints}</fingerprints>")
            if self.feedback_xml:
                parts.append(f"<feedback>{self.feedback_xml}</feedback>")
        return f"<{tag}>{''.join(parts)}</{tag}>"


class FakeNCMEC(FakeServer):
    """``GET /hashsharing/v2/entries``: Basic auth, entries not in time order, paged by ``next``."""

    def __init__(self, user: str, password: str, page_size: int = 2) -> None:
        super().__init__()
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        self.authorization = f"Basic {token}"
        self.page_size = page_size
        self.entries: dict[str, Entry] = {}
        self.next_override: str | None = None

    def put(self, entry: Entry) -> Entry:
        self.entries[entry.key] = entry
        return entry

    def tombstone(self, key: str, timestamp: int) -> None:
        entry = self.entries[key]
        entry.deleted, entry.timestamp = True, timestamp

    def respond(self, seen: Seen) -> tuple[int, str, bytes]:
        if seen.headers.get("authorization") != self.authorization:
            return 401, "text/plain", b"unauthorized"
        if seen.path != f"{NCMEC_BASE_PATH}/v2/entries":
            return 404, "text/plain", b"not found"
        low = datetime.strptime(seen.query["from"], NCMEC_DATE).replace(tzinfo=UTC)
        high = datetime.strptime(seen.query["to"], NCMEC_DATE).replace(tzinfo=UTC)
        start, size = int(seen.query.get("start", 0)), int(seen.query.get("size", self.page_size))
        window = [
            e for e in self.entries.values() if low.timestamp() <= e.timestamp <= high.timestamp()
        ]
        window.sort(key=lambda e: e.entry_id, reverse=True)  # not in time order, like NCMEC
        page = window[start : start + size]
        sections = []
        for kind in ("image", "video"):
            chosen = [e for e in page if e.kind == kind]
            stamp = (
                f' maxTimestamp="{ncmec_date(max(e.timestamp for e in chosen))}"' if chosen else ""
            )
            sections.append(
                f'<{kind}s count="{len(chosen)}"{stamp}>{"".join(e.xml() for e in chosen)}'
                f"</{kind}s>"
            )
        link = ""
        if start + size < len(window):
            params = {
                "from": seen.query["from"],
                "to": seen.query["to"],
                "start": start + size,
                "size": size,
                "max": len(window),
            }
            link = self.next_override or f"/v2/entries?{urlencode(params)}"
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<queryResult xmlns="https://hashsharing.ncmec.org/hashsharing/v2">'
            f"{''.join(sections)}<paging><next>{escape(link)}</next></paging></queryResult>"
        )
        return 200, "application/xml", body.encode()


def affirmative(kind: str, *members: int) -> str:
    inner = "".join(f'<member id="{m}">Member {m}</member>' for m in members)
    return f"<affirmativeFeedback type={quoteattr(kind)}><members>{inner}</members>" + (
        "</affirmativeFeedback>"
    )


def negative(kind: str, reason: str, *members: int) -> str:
    inner = "".join(f'<member id="{m}">Member {m}</member>' for m in members)
    return (
        f"<negativeFeedback type={quoteattr(kind)}><reasons>"
        f"<reason guid='g' name={quoteattr(reason)}/><members>{inner}</members>"
        "</reasons></negativeFeedback>"
    )


# -- StopNCII ----------------------------------------------------------------------------------


class FakeStopNCII(FakeServer):
    """``GET /v1/FetchHashes``: both key headers required, pages linked by opaque tokens."""

    def __init__(self, subscription_key: str, function_key: str, page_size: int = 2) -> None:
        super().__init__()
        self.keys = {"ocp-apim-subscription-key": subscription_key, "x-functions-key": function_key}
        self.page_size = page_size
        self.records: list[dict[str, Any]] = []

    def add(self, signal_type: str, value: str, timestamp: int, **extra: Any) -> None:
        record = {
            "lastModtimestamp": timestamp,
            "signalType": signal_type,
            "hashValue": value,
            "hashStatus": "Active",
            "caseNumbers": {f"case-{len(self.records)}": "Active"},
            "CSPFeedbacks": [],
        }
        self.records.append({**record, **extra})

    def respond(self, seen: Seen) -> tuple[int, str, bytes]:
        if any(seen.headers.get(k) != v for k, v in self.keys.items()):
            return 401, "application/json", b'{"message": "Access denied"}'
        if seen.path != "/v1/FetchHashes":
            return 404, "text/plain", b"not found"
        start = int(seen.query["startTimestamp"])
        token = seen.query.get("nextPageToken")
        if token is not None and not token.startswith("p"):
            return 400, "application/json", b'{"message": "invalid token"}'
        offset = int(token[1:]) if token else 0
        window = sorted(
            (r for r in self.records if r["lastModtimestamp"] >= start),
            key=lambda r: r["lastModtimestamp"],
        )
        page = window[offset : offset + self.page_size]
        more = offset + self.page_size < len(window)
        body = {
            "count": len(page),
            "nextPageToken": f"p{offset + self.page_size}" if more else None,
            "nextSetTimestamp": (window[-1]["lastModtimestamp"] + 1) if window else start,
            "hasMoreRecords": more,
            "hashRecords": page,
        }
        return 200, "application/json", json.dumps(body).encode()


# -- the database, all of it -------------------------------------------------------------------


def occurrences(engine: Engine, text: str) -> list[str]:
    """``table.column`` of every stored value containing ``text`` (bytes columns included)."""
    needle = text.lower()
    found = []
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in conn.execute(select(table)).mappings():
                for column in table.columns:
                    value = row[column.name]
                    if value is None:
                        continue
                    if isinstance(column.type, LargeBinary):
                        hit = text.encode() in bytes(value)
                    else:
                        hit = needle in str(value).lower()
                    if hit:
                        found.append(f"{table.name}.{column.name}")
    return found
