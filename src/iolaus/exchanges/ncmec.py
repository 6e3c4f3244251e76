"""``ncmec``: NCMEC's hash-sharing API (XML over HTTPS, Basic auth).

``GET /v2/entries?from=&to=`` returns images and videos with their fingerprints, plus
``deleted*`` tombstones, in pages linked by ``<paging><next>``. Entries are not in time order,
so the window's ``maxTimestamp`` becomes the checkpoint only once paging is exhausted; until
then the checkpoint keeps the paging link (valid about 12 hours), so a crash resumes mid-window
and a replay of a page is harmless (records are keyed by member and entry id).

Image MD5 and PDQ and video MD5 are kept (pytx drops image MD5); other fingerprint types are
ignored, so a new type on NCMEC's side is never an error.
"""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from collections.abc import Generator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from iolaus.exchanges.base import (
    Checkpoint,
    ExchangeAPI,
    ExchangeError,
    Feedback,
    FetchDelta,
    InvalidExchange,
    Opinion,
    Record,
    check_base_url,
    get_with_retries,
    register,
    reject_unknown_keys,
    to_signal,
)
from iolaus.hashing.types import MD5, PDQ, VIDEO_MD5, SignalType

ENVIRONMENTS = {
    "Industry": "https://report.cybertip.org/hashsharing",
    "Industry_Exploitative": "https://report.cybertip.org/exploitative-hashsharing",
    "LawEnforcement": "https://lesp.ncmec.org/csam-hashsharing",
    "NGO": "https://hashsharing.ncmec.org/npo",
    "Exploitative": "https://hashsharing.ncmec.org/exploitative",
    "NGO_Generative_AI": "https://hashsharing.ncmec.org/generative-ai-csam",
    "NGO_Generative_AI_Exploitative": "https://hashsharing.ncmec.org/generative-ai-exploitative",
    "test_Industry": "https://exttest.cybertip.org/hashsharing",
    "test_Industry_Exploitative": "https://exttest.cybertip.org/exploitative-hashsharing",
    "test_LawEnforcement": "https://betalesp.ncmec.org/csam-hashsharing",
    "test_NGO": "https://hashsharing-test.ncmec.org/npo",
    "test_Exploitative": "https://hashsharing-test.ncmec.org/exploitative",
    "test_NGO_Generative_AI": "https://hashsharing-test.ncmec.org/generative-ai-csam",
    "test_NGO_Generative_AI_Exploitative": (
        "https://hashsharing-test.ncmec.org/generative-ai-exploitative"
    ),
}
DATE_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
END_MARGIN = 5  # seconds: entries of the current second may still be arriving
PAGING_VALID = 11 * 3600  # NCMEC honours a paging link for about 12 hours
TIMEOUT = 60.0

_SIGNALS = {
    ("image", "md5"): MD5,
    ("image", "pdq"): PDQ,
    ("video", "md5"): VIDEO_MD5,
}


@register
class NCMECAPI(ExchangeAPI):
    name = "ncmec"
    category = "csam"
    credential_fields = ("user", "password")

    @classmethod
    def check_config(cls, config: Mapping[str, Any]) -> dict[str, Any]:
        reject_unknown_keys(
            cls.name, config, {"environment", "base_url", "only_esp_ids", "start_timestamp"}
        )
        checked: dict[str, Any] = {}
        environment = config.get("environment")
        if environment is not None:
            if environment not in ENVIRONMENTS:
                raise InvalidExchange(
                    f"ncmec config: unknown environment {environment!r} "
                    f"(one of {', '.join(ENVIRONMENTS)})"
                )
            checked["environment"] = environment
        if config.get("base_url") is not None:
            checked["base_url"] = check_base_url(cls.name, config["base_url"])
        if not checked:
            raise InvalidExchange("ncmec config: set environment (e.g. Industry) or base_url")
        only = config.get("only_esp_ids")
        if only is not None:
            if not isinstance(only, list) or not all(
                isinstance(i, int) and not isinstance(i, bool) for i in only
            ):
                raise InvalidExchange("ncmec config: only_esp_ids must be a list of integers")
            checked["only_esp_ids"] = sorted(set(only))
        start = config.get("start_timestamp", 0)
        if not isinstance(start, int) or isinstance(start, bool) or start < 0:
            raise InvalidExchange("ncmec config: start_timestamp must be a Unix time in seconds")
        checked["start_timestamp"] = start
        return checked

    @classmethod
    def parse_credentials(cls, text: str) -> dict[str, str]:
        """JSON, or ``user:password`` as in pytx's ``TX_NCMEC_CREDENTIALS``."""
        stripped = text.strip()
        if stripped.startswith("{"):
            return super().parse_credentials(stripped)
        user, sep, password = stripped.partition(":")
        if not sep:
            raise InvalidExchange('ncmec credentials: expected "user:password" or JSON')
        return cls.check_credentials({"user": user, "password": password})

    @property
    def base_url(self) -> str:
        return self.config.get("base_url") or ENVIRONMENTS[self.config["environment"]]

    def fetch(self, checkpoint: Checkpoint | None) -> Generator[FetchDelta, None, None]:
        checkpoint = checkpoint or {}
        start = int(checkpoint.get("timestamp", self.config["start_timestamp"]))
        paging = checkpoint.get("paging")
        now = int(time.time())
        if paging and now - paging["since"] < PAGING_VALID:
            url, params = paging["next"], None
            end, max_seen, since = paging["to"], paging["max_timestamp"], paging["since"]
        else:
            end, max_seen, since = max(start, now - END_MARGIN), start, now
            url, params = "/v2/entries", {"from": _format(start), "to": _format(end)}
        only = set(self.config.get("only_esp_ids", ())) or None
        auth = httpx.BasicAuth(self._credentials["user"], self._credentials["password"])
        with httpx.Client(auth=auth, timeout=TIMEOUT) as client:
            while True:
                response = get_with_retries(
                    client, self.base_url + url, service="NCMEC", params=params, sleep=self._sleep
                )
                page = parse_entries(response.content, only)
                max_seen = max(max_seen, page.max_timestamp or 0)
                if not page.next:
                    yield FetchDelta(page.updates, {"timestamp": max_seen}, page.ignored)
                    return
                if page.next == url:
                    raise ExchangeError("NCMEC: the paging link does not advance")
                url, params = page.next, None
                resume = {"next": url, "to": end, "max_timestamp": max_seen, "since": since}
                yield FetchDelta(page.updates, {"timestamp": start, "paging": resume}, page.ignored)


@dataclass
class Page:
    updates: dict[str, Record | None] = field(default_factory=dict)
    max_timestamp: int | None = None
    next: str = ""
    ignored: int = 0


def parse_entries(body: bytes, only_esp_ids: set[int] | None = None) -> Page:
    """One ``/v2/entries`` response; namespaces are ignored, unknown elements skipped."""
    try:
        # Python's expat (≥ 2.4.1) refuses entity-expansion bombs and never loads external entities.
        root = ET.fromstring(body)  # noqa: S314
    except ET.ParseError:
        raise ExchangeError("NCMEC: the entries response is not valid XML") from None
    page = Page()
    for section in root:
        tag = _local(section.tag)
        if tag == "paging":
            page.next = _check_next(_text(_child(section, "next")))
        elif tag in {"images", "videos"}:
            stamp = _timestamp(section.get("maxTimestamp"))
            if stamp is not None:
                page.max_timestamp = max(page.max_timestamp or 0, stamp)
            for element in section:
                _add_entry(page, element, only_esp_ids)
    return page


def _add_entry(page: Page, element: ET.Element, only_esp_ids: set[int] | None) -> None:
    tag = _local(element.tag)
    deleted = tag.startswith("deleted")
    kind = tag.removeprefix("deleted").lower()
    entry_id = _text(_child(element, "id"))
    member = _child(element, "member")
    member_id = member.get("id", "").strip() if member is not None else ""
    if kind not in {"image", "video"} or not entry_id or not member_id.isdigit():
        page.ignored += 1
        return
    if only_esp_ids is not None and int(member_id) not in only_esp_ids:
        return
    key = f"{member_id}-{entry_id}"  # pytx's record key
    if deleted:
        page.updates[key] = None  # a tombstone wins over an entry in the same page
        return
    if key in page.updates:
        return
    signals: dict[SignalType, str] = {}
    for fingerprint in _children(element, "fingerprints"):
        signal_type = _SIGNALS.get((kind, _local(fingerprint.tag).lower()))
        value = to_signal(signal_type, fingerprint.text) if signal_type else None
        if signal_type and value:
            signals[signal_type] = value
    classification = _text(_child(element, "classification"))
    page.updates[key] = Record(
        signals,
        categories=(classification,) if classification else (),
        feedback=_feedback(_child(element, "feedback")),
    )


def _feedback(element: ET.Element | None) -> tuple[Feedback, ...]:
    """Members' votes per fingerprint type; negative votes carry the reason before them."""
    votes: list[Feedback] = []
    for block in element if element is not None else ():
        tag, kind = _local(block.tag), block.get("type", "")
        if tag == "affirmativeFeedback":
            votes.extend(
                Feedback(Opinion.POSITIVE, m.get("id", ""), (kind,))
                for m in _children(block, "members")
            )
        elif tag == "negativeFeedback":
            reason = ""
            for part in _children(block, "reasons"):
                if _local(part.tag) == "reason":
                    reason = part.get("name", "")
                elif _local(part.tag) == "members":
                    votes.extend(
                        Feedback(Opinion.NEGATIVE, m.get("id", ""), (kind, reason)) for m in part
                    )
    return tuple(votes)


def _check_next(link: str) -> str:
    """Credentials go with the request: follow paging only within the configured server."""
    if link and (not link.startswith("/") or link.startswith("//")):
        raise ExchangeError("NCMEC: refusing a paging link that leaves the API server")
    return link


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(element: ET.Element, name: str) -> ET.Element | None:
    return next((c for c in element if _local(c.tag) == name), None)


def _children(element: ET.Element, name: str) -> list[ET.Element]:
    """Children of the named child; none when it is absent (an Element's truth is ambiguous)."""
    found = _child(element, name)
    return list(found) if found is not None else []


def _text(element: ET.Element | None) -> str:
    return (element.text or "").strip() if element is not None else ""


def _timestamp(text: str | None) -> int | None:
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ExchangeError("NCMEC: unreadable maxTimestamp in the entries response") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp())


def _format(timestamp: int) -> str:
    """In UTC: pytx renders local time with a literal Z, which shifts the window."""
    return datetime.fromtimestamp(timestamp, UTC).strftime(DATE_FORMAT)
