"""``stop_ncii``: StopNCII.org's partner API (JSON over HTTPS).

Victims hash their own images on their own device; StopNCII shares the hashes with partner
platforms and withdraws them when the victim asks. Withdrawal is the point of this module: a
record whose ``hashStatus`` is Withdrawn or Deleted, or whose every case is, is a delete (pytx
compares the hash value against those words instead, so it never deletes). Each record is the
hash's full current state, so the latest record for a (type, hash) wins.

``GET /FetchHashes`` pages with ``nextPageToken`` while ``hasMoreRecords``; ``nextSetTimestamp``
of the last page is the checkpoint. Between pages the checkpoint keeps the start timestamp and
the page token, so a crash resumes mid-list; a token the server no longer honours restarts the
list from the timestamp, which is harmless because records are keyed by (type, hash).
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from typing import Any

import httpx

from iolaus.exchanges.base import (
    Checkpoint,
    ExchangeAPI,
    ExchangeError,
    Feedback,
    FetchDelta,
    HTTPStatusError,
    InvalidExchange,
    Opinion,
    Record,
    check_base_url,
    get_with_retries,
    register,
    reject_unknown_keys,
    to_signal,
)
from iolaus.hashing.types import PDQ, VIDEO_MD5, SignalType

BASE_URL = "https://api.stopncii.org/v1"
PAGE_SIZE = 800
FIRST_TIMESTAMP = 10  # where pytx starts a first fetch
TIMEOUT = 60.0
STALE_TOKEN_STATUSES = frozenset({400, 404, 410})

_SIGNALS = {"ImagePDQ": PDQ, "VideoMD5": VIDEO_MD5}
_GONE = frozenset({"Withdrawn", "Deleted"})
_OPINIONS = {"Blocked": Opinion.POSITIVE, "NotBlocked": Opinion.NEGATIVE}


@register
class StopNCIIAPI(ExchangeAPI):
    name = "stop_ncii"
    category = "ncii"
    credential_fields = ("subscription_key", "fetch_function_key")

    @classmethod
    def check_config(cls, config: Mapping[str, Any]) -> dict[str, Any]:
        reject_unknown_keys(cls.name, config, {"base_url", "start_timestamp"})
        start = config.get("start_timestamp", FIRST_TIMESTAMP)
        if not isinstance(start, int) or isinstance(start, bool) or start < 0:
            raise InvalidExchange("stop_ncii config: start_timestamp must be a Unix time")
        return {
            "base_url": check_base_url(cls.name, config.get("base_url", BASE_URL)),
            "start_timestamp": start,
        }

    @classmethod
    def parse_credentials(cls, text: str) -> dict[str, str]:
        """JSON, or ``fetch_function_key,subscription_key`` as in pytx's ``TX_STOPNCII_KEYS``."""
        stripped = text.strip()
        if stripped.startswith("{"):
            return super().parse_credentials(stripped)
        parts = [p.strip() for p in stripped.split(",")]
        if len(parts) != 2:
            raise InvalidExchange(
                'stop_ncii credentials: expected "fetch_function_key,subscription_key" or JSON '
                "(put a base URL in the config)"
            )
        return cls.check_credentials({"fetch_function_key": parts[0], "subscription_key": parts[1]})

    def fetch(self, checkpoint: Checkpoint | None) -> Generator[FetchDelta, None, None]:
        checkpoint = checkpoint or {}
        timestamp = int(checkpoint.get("timestamp", self.config["start_timestamp"]))
        token: str | None = checkpoint.get("page_token")
        resuming = token is not None
        headers = {
            "Ocp-Apim-Subscription-Key": self._credentials["subscription_key"],
            "x-functions-key": self._credentials["fetch_function_key"],
        }
        url = self.config["base_url"] + "/FetchHashes"
        with httpx.Client(headers=headers, timeout=TIMEOUT) as client:
            while True:
                params: dict[str, str | int] = {"startTimestamp": timestamp, "pageSize": PAGE_SIZE}
                if token:
                    params["nextPageToken"] = token
                try:
                    response = get_with_retries(
                        client, url, service="StopNCII", params=params, sleep=self._sleep
                    )
                except HTTPStatusError as exc:
                    if resuming and exc.status in STALE_TOKEN_STATUSES:
                        token = None
                        resuming = False
                        continue
                    raise
                resuming = False
                page = _page(response)
                updates, ignored = parse_records(page.get("hashRecords"))
                if not page.get("hasMoreRecords"):
                    next_set = page.get("nextSetTimestamp")
                    done = next_set if isinstance(next_set, int) else timestamp
                    yield FetchDelta(updates, {"timestamp": done}, ignored)
                    return
                token = page.get("nextPageToken")
                if not isinstance(token, str) or not token:
                    raise ExchangeError("StopNCII: more records announced but no nextPageToken")
                yield FetchDelta(updates, {"timestamp": timestamp, "page_token": token}, ignored)


def _page(response: httpx.Response) -> dict[str, Any]:
    try:
        page = response.json()
    except ValueError:
        page = None
    if not isinstance(page, dict) or not isinstance(page.get("hashRecords", []), list):
        raise ExchangeError("StopNCII: FetchHashes returned a malformed page")
    return page


def parse_records(records: list[Any] | None) -> tuple[dict[str, Record], int]:
    """Records keyed by ``"<signal_type> <hash>"`` (latest wins), and how many were unusable.

    A malformed record is counted and skipped rather than failing the page: a page that can
    never be ingested would stall the whole list (pytx's failure mode).
    """
    latest: dict[str, tuple[int, Record]] = {}
    ignored = 0
    for item in records or ():
        kind = _SIGNALS.get(str(item.get("signalType"))) if isinstance(item, dict) else None
        value = to_signal(kind, item.get("hashValue")) if kind else None
        if kind is None or value is None:
            ignored += 1
            continue
        stamp = item.get("lastModtimestamp")
        stamp = stamp if isinstance(stamp, int) else 0
        key = f"{kind.name} {value}"
        if key not in latest or latest[key][0] <= stamp:
            latest[key] = (stamp, _record(kind, value, item))
    return {key: record for key, (_, record) in latest.items()}, ignored


def _record(kind: SignalType, value: str, item: dict[str, Any]) -> Record:
    cases = item.get("caseNumbers")
    statuses = list(cases.values()) if isinstance(cases, dict) else []
    withdrawn = item.get("hashStatus") in _GONE or (
        bool(statuses) and all(s in _GONE for s in statuses)
    )
    feedback = tuple(_feedback(f) for f in item.get("CSPFeedbacks") or () if isinstance(f, dict))
    # Case numbers identify victims' cases: they are read for status only, never stored.
    return Record({kind: value}, feedback=feedback, withdrawn=withdrawn)


def _feedback(item: dict[str, Any]) -> Feedback:
    tags = item.get("tags")
    return Feedback(
        _OPINIONS.get(str(item.get("feedbackValue")), Opinion.INVESTIGATION),
        str(item.get("source") or ""),
        tuple(t for t in tags if isinstance(t, str)) if isinstance(tags, list) else (),
    )
