"""The HMA-compatible API, driven the way HMA clients, HMA's UI and its curl docs drive it.

Media is generated (noise, gradients, shapes); shapes and status codes are HMA 1.1.7's.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from iolaus.store import audit
from tests.web.helpers import (
    Api,
    make_api,
    near_duplicate,
    plain_png,
    png,
    random_pdq,
    video,
)

BANK = "TEST_BANK"


def photo(data: bytes, name: str = "upload.png") -> dict[str, Any]:
    return {"photo": (name, data, "image/png")}


def test_hma_client_session(api: Api) -> None:
    """Create a bank, add a signal and an uploaded photo, look up in every way, rename, delete."""
    created = api.post("/c/banks", json={"name": BANK})
    assert created.status_code == 201
    assert created.json() == {"name": BANK, "matching_enabled_ratio": 1.0}
    assert api.get("/c/banks").json() == [{"name": BANK, "matching_enabled_ratio": 1.0}]
    assert api.get(f"/c/bank/{BANK}").json() == {"name": BANK, "matching_enabled_ratio": 1.0}

    # add a hash directly, then a photo upload (curl -F photo=@x.png) with metadata and a note
    signal = random_pdq(7)
    added = api.post(f"/c/bank/{BANK}/signal", json={"pdq": signal})
    assert added.status_code == 200
    assert added.json() == {"id": added.json()["id"], "signals": {"pdq": signal}}
    assert isinstance(added.json()["id"], int)
    upload = api.post(
        f"/c/bank/{BANK}/content",
        files=photo(png(1)),
        data={"metadata": json.dumps({"content_id": "case-17"}), "note": "generated shapes"},
    )
    assert upload.status_code == 200, upload.text
    photo_id, signals = upload.json()["id"], upload.json()["signals"]
    assert set(upload.json()) == {"id", "signals"} and isinstance(photo_id, int)
    assert set(signals) == {"pdq", "md5", "sha256"} and len(signals["pdq"]) == 64

    # hashing an upload gives what the bank stored
    assert api.post("/h/hash", files=photo(png(1))).json() == signals
    assert api.post("/h/hash?types=pdq", files=photo(png(1))).json() == {"pdq": signals["pdq"]}

    # lookup by signal: banks → [{bank_content_id, distance as a string}]
    looked = api.get("/m/lookup", params={"signal_type": "pdq", "signal": signals["pdq"]})
    assert looked.json() == {BANK: [{"bank_content_id": photo_id, "distance": "0"}]}
    assert api.get("/m/lookup", params={"signal_type": "md5", "signal": signals["md5"]}).json() == {
        BANK: [{"bank_content_id": photo_id, "distance": "-"}]
    }
    assert (
        api.get("/m/lookup", params={"signal_type": "pdq", "signal": random_pdq(99)}).json() == {}
    )

    # raw lookup: ids only, or with distances
    raw = {"signal_type": "pdq", "signal": signal}
    assert api.get("/m/raw_lookup", params=raw).json() == {"matches": [added.json()["id"]]}
    assert api.get("/m/raw_lookup", params={**raw, "include_distance": "true"}).json() == {
        "matches": [{"bank_content_id": added.json()["id"], "distance": "0"}]
    }
    assert api.get("/m/raw_lookup", params={**raw, "banks": "OTHER"}).json() == {"matches": []}

    # lookup by upload of a near duplicate: keyed by signal type, then bank
    by_file = api.post("/m/lookup", files=photo(near_duplicate(1), "small.jpg")).json()
    assert set(by_file) == {"pdq", "md5", "sha256"}
    assert by_file["md5"] == {} and by_file["sha256"] == {}
    [match] = by_file["pdq"][BANK]
    assert match["bank_content_id"] == photo_id and 0 < int(match["distance"]) <= 31

    # compare: distance as a number
    near = api.post("/h/hash?types=pdq", files=photo(near_duplicate(1))).json()["pdq"]
    compared = api.post("/m/compare", json={"pdq": [signals["pdq"], near]}).json()
    assert compared == {"pdq": [True, {"distance": int(match["distance"])}]}
    assert api.post("/m/compare", json={"md5": [signals["md5"], signals["md5"]]}).json() == {
        "md5": [True, {}]
    }

    status = api.get("/m/index/status").json()
    assert status["pdq"]["present"] is True and status["pdq"]["size"] == 2
    assert isinstance(status["pdq"]["built_to"], int)
    assert set(api.get("/m/index/status?signal_type=pdq").json()) == {"pdq"}

    # content record: signals off and metadata on by default; note shown when set
    record = api.get(f"/c/bank/{BANK}/content/{photo_id}").json()
    assert record == {
        "id": photo_id,
        "disable_until_ts": 1,
        "original_media_uri": None,
        "bank": {"name": BANK, "matching_enabled_ratio": 1.0},
        "metadata": {"content_id": "case-17", "content_uri": None, "json": None, "collab": {}},
        "note": "generated shapes",
    }
    detailed = api.get(
        f"/c/bank/{BANK}/content/{photo_id}?include_signals=true&include_metadata=false"
    ).json()
    assert detailed["signals"] == signals and "metadata" not in detailed

    # rename and disable; the disabled bank stops matching
    renamed = api.put(f"/c/bank/{BANK}", json={"name": "RENAMED", "enabled": False})
    assert renamed.json() == {"name": "RENAMED", "matching_enabled_ratio": 0.0}
    assert api.get(f"/c/bank/{BANK}").status_code == 404
    assert api.get("/m/lookup", params={"signal_type": "pdq", "signal": signal}).json() == {}
    assert api.put("/c/bank/RENAMED", json={"enabled_ratio": 1.0}).json()["matching_enabled_ratio"]

    assert api.delete("/c/bank/RENAMED").json() == {"message": "Done"}
    assert api.delete("/c/bank/RENAMED").json() == {"message": "Done"}  # HMA: also when missing
    assert api.get("/c/banks").json() == []
    assert api.get("/m/lookup", params={"signal_type": "pdq", "signal": signal}).json() == {}
    assert api.get("/m/raw_lookup", params=raw).json() == {"matches": []}


def test_withdrawal_delete_stops_matching_at_once(api: Api) -> None:
    api.post("/c/banks", json={"name": "NCII_VICTIMS"})
    signal = random_pdq(3)
    content_id = api.post("/c/bank/NCII_VICTIMS/signal", json={"pdq": signal}).json()["id"]
    query = {"signal_type": "pdq", "signal": signal}
    assert api.get("/m/lookup", params=query).json() == {
        "NCII_VICTIMS": [{"bank_content_id": content_id, "distance": "0"}]
    }
    assert api.delete(f"/c/bank/NCII_VICTIMS/content/{content_id}").json() == {"deleted": 1}
    assert api.get("/m/lookup", params=query).json() == {}
    assert api.get("/m/raw_lookup", params=query).json() == {"matches": []}
    assert api.post("/m/lookup/batch", json={"signal_type": "pdq", "signals": [signal]}).json() == {
        "results": [{"signal": signal, "matches": {}}]
    }
    assert api.delete(f"/c/bank/NCII_VICTIMS/content/{content_id}").json() == {"deleted": 0}


def test_bank_errors_use_hma_codes(api: Api) -> None:
    assert api.post("/c/banks", json={"name": "DUP", "enabled_ratio": 0.5}).json() == {
        "name": "DUP",
        "matching_enabled_ratio": 0.5,
    }
    assert api.post("/c/banks", json={"name": "OFF", "enabled": False}).json() == {
        "name": "OFF",
        "matching_enabled_ratio": 0.0,
    }
    assert api.post("/c/banks", json={"name": "DUP"}).json() == {"message": "Bank already exists"}
    assert api.post("/c/banks", json={"name": "DUP"}).status_code == 403
    assert api.post("/c/banks", json={"name": "LOOSE", "enabled_ratio": 2}).status_code == 400
    assert api.post("/c/banks", json={}).status_code == 400
    assert api.post("/c/banks", content=b"not json").status_code == 400
    assert api.get("/c/bank/NOPE").json() == {"message": "bank 'NOPE' not found"}
    assert api.put("/c/bank/NOPE", json={"enabled": True}).status_code == 404
    renamed = api.put("/c/bank/DUP", json={"name": "OFF"})
    assert (renamed.status_code, renamed.json()) == (403, {"message": "Bank name already exists"})
    assert api.put("/c/bank/DUP", json={"name": "bad name"}).status_code == 400


@pytest.mark.parametrize(
    "name",
    [
        "lower",
        "1DIGIT_FIRST",
        "../../etc/passwd",
        "<script>alert(1)</script>",
        "BANK'; DROP TABLE banks; --",
        "BANK\nX-Injected: 1",
        "ÄÖÜ",
        "BANK\u202eKNAB",
        "A" * 256,
        "B" * 100_000,
        "",
    ],
)
def test_hostile_bank_names_are_refused_and_not_reflected_raw(sqlite_api: Api, name: str) -> None:
    response = sqlite_api.post("/c/banks", json={"name": name})
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert len(response.json()["message"]) <= 300
    assert sqlite_api.get("/c/banks").json() == []


def test_hostile_bank_names_in_paths(sqlite_api: Api) -> None:
    for path in ("/c/bank/%3Cscript%3E", "/c/bank/..%2F..%2Fetc", "/c/bank/A%00B"):
        response = sqlite_api.get(path)
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/json"
    assert sqlite_api.post("/c/bank/%3Cscript%3E/signal", json={"pdq": "0" * 64}).status_code == 404


def test_content_routes(api: Api) -> None:
    api.post("/c/banks", json={"name": "A"})
    api.post("/c/banks", json={"name": "B"})
    content_id = api.post("/c/bank/A/signal", json={"pdq": random_pdq(1), "note": "first"}).json()[
        "id"
    ]
    # the content id must belong to the bank in the path (HMA does not check; Iolaus does)
    assert api.get(f"/c/bank/B/content/{content_id}").status_code == 404
    assert api.delete(f"/c/bank/B/content/{content_id}").status_code == 404
    assert api.get(f"/c/bank/A/content/{content_id + 1000}").json() == {
        "message": f"content '{content_id + 1000}' not found"
    }

    updated = api.put(f"/c/bank/A/content/{content_id}", json={"disable_until_ts": 0, "note": "n"})
    assert updated.json() == {
        "id": content_id,
        "disable_until_ts": 0,
        "collab_metadata": {},
        "original_media_uri": None,
        "bank": {"name": "A", "matching_enabled_ratio": 1.0},
        "note": "n",
    }
    signal = api.get(f"/c/bank/A/content/{content_id}?include_signals=true").json()["signals"]
    query = {"signal_type": "pdq", "signal": signal["pdq"]}
    assert api.get("/m/lookup", params=query).json() == {}  # disabled: lookup ignores it
    assert api.get("/m/raw_lookup", params=query).json() == {"matches": [content_id]}  # raw: not

    for bad in ({"disable_until_ts": -1}, {"disable_until_ts": 10**12}, {"note": "x" * 256}):
        assert api.put(f"/c/bank/A/content/{content_id}", json=bad).status_code == 400
    assert (
        api.put(f"/c/bank/A/content/{content_id}", json={"disable_until_ts": 1}).status_code == 200
    )
    assert api.get("/m/lookup", params=query).json() == {
        "A": [{"bank_content_id": content_id, "distance": "0"}]
    }


def test_signal_route_validation(api: Api) -> None:
    api.post("/c/banks", json={"name": "A"})
    cases = [
        ({}, "No signals given"),
        ({"note": "only a note"}, "No signals given"),
        ({"photodna": "00"}, "No such signal type photodna"),
        ({"pdq": "AB" * 32}, "Invalid pdq signal"),
        ({"pdq": ""}, "Invalid pdq signal"),
    ]
    for body, message in cases:
        response = api.post("/c/bank/A/signal", json=body)
        assert response.status_code == 400 and response.json()["message"].startswith(message)
    assert api.post("/c/bank/NOPE/signal", json={"pdq": random_pdq(1)}).status_code == 404
    md5 = api.post("/c/bank/A/signal", json={"video_md5": " ABCDEF0123456789ABCDEF0123456789 "})
    assert md5.json()["signals"] == {"video_md5": "abcdef0123456789abcdef0123456789"}
    again = api.post("/c/bank/A/signal", json={"video_md5": "abcdef0123456789abcdef0123456789"})
    assert again.json()["id"] == md5.json()["id"]  # the same hash is not banked twice


def test_lookup_errors(api: Api) -> None:
    def message(path: str, **params: str) -> tuple[int, str]:
        response = api.get(path, params=params)
        return response.status_code, response.json()["message"]

    assert message("/m/lookup") == (400, "Either url or both signal and signal_type are required")
    assert message("/m/lookup", signal_type="photodna", signal="00") == (
        400,
        "No such SignalType 'photodna'",
    )
    code, text = message("/m/lookup", signal_type="pdq", signal="xyz")
    assert code == 400 and text.startswith("invalid signal")
    assert message("/m/raw_lookup", signal_type="pdq") == (400, "signal is required")
    assert message("/m/raw_lookup", signal="0" * 64) == (400, "signal_type is required")
    assert message(
        "/m/raw_lookup", signal_type="pdq", signal="0" * 64, include_distance="maybe"
    ) == (400, "invalid boolean parameter - prefer true/false")
    assert message("/m/index/status", signal_type="nope") == (400, "No such signal type 'nope'")
    for body in ([1, 2], {"pdq": "x"}, {"pdq": ["a"]}, {"pdq": ["0" * 64, "zz"]}, {"nope": []}):
        assert api.post("/m/compare", json=body).status_code == 400


def test_upload_rules(api: Api, tmp_path: Path) -> None:
    api.post("/c/banks", json={"name": "A"})
    two = {"photo": ("a.png", png(1), "image/png"), "video": ("b.png", png(2), "image/png")}
    assert api.post("/h/hash", files=two).json() == {"message": "Only one file allowed per request"}
    assert api.post("/h/hash", files={"file": ("a.png", png(1), "image/png")}).json() == {
        "message": "no such content_type: 'file'"
    }
    assert api.post("/h/hash", data={"photo": "not a file"}).json() == {
        "message": "Missing multipart/form-data file upload"
    }
    assert api.post("/h/hash").status_code == 400
    assert api.post("/c/bank/A/content").json() == {
        "message": "Neither `url` nor multipart file upload was received"
    }
    not_media = api.post("/h/hash", files=photo(b"%PDF-1.7 not a picture"))
    assert not_media.status_code == 400 and "cannot hash" in not_media.json()["message"]
    assert api.post("/h/hash?types=video_md5", files=photo(png(1))).status_code == 400

    # a photo too plain for PDQ: HMA's empty hash, which lookups then refuse
    plain = api.post("/h/hash", files=photo(plain_png())).json()
    assert plain["pdq"] == "" and len(plain["md5"]) == 32
    assert api.post("/m/lookup", files=photo(plain_png())).json()["pdq"] == {}
    stored = api.post("/c/bank/A/content", files=photo(plain_png())).json()["signals"]
    assert set(stored) == {"md5", "sha256"}

    # a video: video_md5 is the file's MD5, as HMA computes it
    clip = video(tmp_path / "clip.mp4")
    hashed = api.post("/h/hash", files={"video": ("clip.mp4", clip, "video/mp4")}).json()
    assert set(hashed) == {"video_md5", "md5", "sha256"} and hashed["video_md5"] == hashed["md5"]
    wrong_kind = api.post("/h/hash", files={"photo": ("clip.mp4", clip, "video/mp4")})
    assert wrong_kind.json() == {"message": "the file is a video, not a photo"}

    bad_meta = api.post("/c/bank/A/content", files=photo(png(3)), data={"metadata": '{"x": 1}'})
    assert bad_meta.status_code == 400 and "unknown keys" in bad_meta.json()["message"]
    assert api.post("/c/bank/NOPE/content", files=photo(png(3))).status_code == 404


def test_oversized_uploads_are_refused(sqlite_engine: Any) -> None:
    api = make_api(sqlite_engine, max_file_size=20_000)
    big = png(1) + b"\0" * 30_000  # over the file cap, under the body cap (cap + form overhead)
    assert len(big) > 20_000
    response = api.post("/h/hash", files=photo(big))
    assert (response.status_code, response.json()) == (413, {"message": "Content too large"})

    huge = b"\0" * (2 * 1024 * 1024)  # over the body cap: refused from Content-Length
    response = api.post("/h/hash", files=photo(huge))
    assert (response.status_code, response.json()) == (413, {"message": "Content too large"})
    assert response.headers["x-content-type-options"] == "nosniff"

    def chunks() -> Any:  # no Content-Length: refused while streaming
        yield b"--b\r\nContent-Disposition: form-data; name=photo; filename=x.png\r\n\r\n"
        for _ in range(40):
            yield b"\0" * 65536
        yield b"\r\n--b--\r\n"

    response = api.post(
        "/h/hash", content=chunks(), headers={"Content-Type": "multipart/form-data; boundary=b"}
    )
    assert (response.status_code, response.json()) == (413, {"message": "Content too large"})


def test_uploads_leave_no_file_behind(
    sqlite_api: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tempfile

    spool = tmp_path / "spool"
    spool.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spool))
    sqlite_api.post("/c/banks", json={"name": "A"})
    assert sqlite_api.post("/h/hash", files=photo(png(1))).status_code == 200
    assert sqlite_api.post("/m/lookup", files=photo(png(1))).status_code == 200
    assert sqlite_api.post("/c/bank/A/content", files=photo(png(1))).status_code == 200
    assert sqlite_api.post("/h/hash", files=photo(b"garbage")).status_code == 400
    assert list(spool.iterdir()) == []


def test_batch_lookup(api: Api) -> None:
    api.post("/c/banks", json={"name": "A"})
    api.post("/c/banks", json={"name": "B"})
    first = random_pdq(1)
    a_id = api.post("/c/bank/A/signal", json={"pdq": first}).json()["id"]
    b_id = api.post("/c/bank/B/signal", json={"pdq": first[:-2] + "00"}).json()["id"]
    queries = [first, random_pdq(2), first[:-1] + ("1" if first[-1] != "1" else "0")]
    body = {"signal_type": "pdq", "signals": queries}
    results = api.post("/m/lookup/batch", json=body).json()["results"]
    assert [r["signal"] for r in results] == queries
    assert results[0]["matches"]["A"] == [{"bank_content_id": a_id, "distance": "0"}]
    assert results[0]["matches"]["B"][0]["bank_content_id"] == b_id
    assert results[1]["matches"] == {}
    assert set(results[2]["matches"]) == {"A", "B"}
    only_b = api.post("/m/lookup/batch", json={**body, "banks": ["B"]}).json()["results"]
    assert set(only_b[0]["matches"]) == {"B"}

    bad = api.post("/m/lookup/batch", json={**body, "signals": [first, first, "nope"]})
    assert bad.status_code == 400
    assert bad.json()["message"].startswith("invalid signal at index 2:")
    assert api.post("/m/lookup/batch", json={**body, "signal_type": "x"}).status_code == 400
    too_many = api.post("/m/lookup/batch", json={**body, "signals": [first] * 10_001})
    assert too_many.status_code == 400
    full = api.post("/m/lookup/batch", json={**body, "signals": [first] * 10_000})
    assert full.status_code == 200 and len(full.json()["results"]) == 10_000


def test_configuration_routes(api: Api) -> None:
    assert api.get("/c/signal_type").json() == [
        {"name": "pdq", "enabled_ratio": 1.0},
        {"name": "video_md5", "enabled_ratio": 1.0},
        {"name": "md5", "enabled_ratio": 1.0},
        {"name": "sha256", "enabled_ratio": 1.0},
    ]
    assert api.get("/c/content_type").json() == [
        {"name": "photo", "enabled": True},
        {"name": "video", "enabled": True},
    ]


def test_curation_writes_are_audited_with_the_token_name(api: Api) -> None:
    api.post("/c/banks", json={"name": "A"})
    content_id = api.post("/c/bank/A/signal", json={"pdq": random_pdq(1)}).json()["id"]
    api.put(f"/c/bank/A/content/{content_id}", json={"disable_until_ts": 0})
    api.delete(f"/c/bank/A/content/{content_id}")
    api.put("/c/bank/A", json={"name": "B"})
    api.delete("/c/bank/B")
    with api.client.app.state.services.engine.connect() as conn:  # type: ignore[attr-defined]
        entries = [e for e in audit.recent(conn) if e["action"].startswith("bank")]
    assert [e["action"] for e in reversed(entries)] == [
        "bank.create",
        "bank.add",
        "bank.content.update",
        "bank.content.delete",
        "bank.update",
        "bank.delete",
    ]
    assert {e["actor"] for e in entries} == {"token:admin-client"}


def test_health_and_docs_need_no_token(sqlite_api: Api) -> None:
    client = sqlite_api.client
    assert (client.get("/status").status_code, client.get("/status").text) == (200, "I-AM-ALIVE")
    assert client.get("/status/live").text == "I-AM-ALIVE"
    assert client.get("/", follow_redirects=False).headers["location"] == "/status"
    spec = client.get("/openapi.json").json()
    assert {"/h/hash", "/m/lookup", "/m/lookup/batch", "/c/bank/{name}/content"} <= set(
        spec["paths"]
    )
    assert "bearer" in json.dumps(spec["components"]["securitySchemes"]).lower()
    docs = client.get("/docs")
    csp = docs.headers["content-security-policy"]
    assert docs.status_code == 200 and "swagger-ui" in docs.text
    assert "script-src https://cdn.jsdelivr.net 'sha256-" in csp
    assert "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
    assert "unsafe-eval" not in csp


def test_security_headers_on_every_response(sqlite_api: Api) -> None:
    for response in (
        sqlite_api.get("/c/banks"),
        sqlite_api.get("/c/banks", role=None),
        sqlite_api.get("/nowhere"),
        sqlite_api.client.get("/status"),
    ):
        headers = response.headers
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"
        assert headers["cache-control"] == "no-store"
        assert headers["content-security-policy"].startswith("default-src 'none'")
