"""The hash match detector: a community's stored attachment hashes against the banks."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, select

from iolaus.demo.dce_writer import attachment_json
from iolaus.hashing.matcher import Matcher
from iolaus.hashing.media import hash_file
from iolaus.hashing.types import MD5, PDQ, SHA256
from iolaus.ingest.discord_export import import_exports
from iolaus.model.signals import BankRef, Scope
from iolaus.signals.detectors.hashes import match, media_queries
from iolaus.signals.scan import scan_communities
from iolaus.store import banks as bank_store
from iolaus.store import signals as signal_store
from iolaus.store.tables import signals
from tests.exports import ALICE, msg, write_export
from tests.ingest.test_media_matching import abstract_image


def _import_with_media(engine: Engine, tmp_path: Path) -> Path:
    files = tmp_path / "general.json_Files"
    files.mkdir()
    known = abstract_image(files / "known.png", seed=1)
    url = "general.json_Files/known.png"
    export = write_export(
        tmp_path / "general.json",
        [msg(1, ALICE, attachments=[attachment_json("701", "IMG_1.png", 1000, url)])],
    )
    assert import_exports(engine, [export]).ok
    return known


def test_detection_matches_media_banked_after_the_import(engine: Engine, tmp_path: Path) -> None:
    known = _import_with_media(engine, tmp_path)
    with engine.connect() as conn:
        assert conn.execute(select(signals)).all() == []  # nothing banked yet
    with engine.begin() as conn:
        bank_store.create_bank(conn, "NCII_LATER", category="ncii")
        content_id, _ = bank_store.add_content(
            conn, "NCII_LATER", {PDQ.name: hash_file(known).pdq or ""}
        )

    (risk,) = scan_communities(engine)
    assert risk.reasons[0].text == "1 attachment match known ncii media in the hash banks"
    with engine.connect() as conn:
        (found,) = signal_store.of_community(conn, risk.community_id, "hash_match")
    assert found.scope is Scope.MESSAGE and found.targets.attachment_id is not None
    assert found.ref(BankRef) == BankRef("NCII_LATER", "pdq", 0, content_id)
    assert found.score == 1.0 and found.severity == 4


def test_a_match_stays_evidence_after_its_item_is_withdrawn(engine: Engine, tmp_path: Path) -> None:
    known = _import_with_media(engine, tmp_path)
    with engine.begin() as conn:
        bank_store.create_bank(conn, "NCII_TEST", category="ncii")
        content_id, _ = bank_store.add_content(
            conn, "NCII_TEST", {PDQ.name: hash_file(known).pdq or ""}
        )
    (before,) = scan_communities(engine)
    with engine.begin() as conn:
        bank_store.delete_content(conn, [content_id])
    (after,) = scan_communities(engine)
    assert after.reasons == before.reasons and after.score == before.score
    with engine.connect() as conn:
        assert len(conn.execute(select(signals)).all()) == 1


def test_one_batched_lookup_finds_what_lookups_one_by_one_find(
    engine: Engine, tmp_path: Path
) -> None:
    photos = [abstract_image(tmp_path / f"{n}.png", seed=n) for n in range(4)]
    media = [hash_file(p) for p in photos]
    with engine.begin() as conn:
        bank_store.create_bank(conn, "A", category="ncii")
        bank_store.create_bank(conn, "B", category="csam")
        bank_store.add_content(conn, "A", {PDQ.name: media[0].pdq or ""})
        bank_store.add_content(conn, "A", {MD5.name: media[2].md5})
        bank_store.add_content(conn, "B", {SHA256.name: media[2].sha256})
    matcher = Matcher(engine, max_staleness=0)
    items = [media_queries(m) for m in media]
    batched = match(matcher, items)
    assert batched == [match(matcher, [queries])[0] for queries in items]
    assert [sorted(m.bank for m in found) for found in batched] == [["A"], [], ["A", "B"], []]
