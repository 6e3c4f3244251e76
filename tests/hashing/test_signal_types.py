"""The signal type registry and its built-in types: what each type declares holds for all."""

from __future__ import annotations

import pytest

from iolaus.hashing.index import PdqIndex
from iolaus.hashing.media import MediaHashes
from iolaus.hashing.signals import parse_hash, signals_of
from iolaus.hashing.types import (
    FILE,
    MD5,
    PDQ,
    PHOTO,
    SHA256,
    SIGNAL_TYPES,
    VIDEO,
    VIDEO_MD5,
    SignalType,
    SignalTypes,
    UnknownSignalType,
)
from iolaus.model.banks import PDQ_MAX_THRESHOLD, InvalidSignal
from tests.hashing.text_signal import TEXT, TextSha1Signal

REGISTERED = list(SIGNAL_TYPES)


def test_the_built_in_names_are_the_stored_and_spoken_ones_in_hma_order() -> None:
    assert [kind.name for kind in SIGNAL_TYPES] == ["pdq", "video_md5", "md5", "sha256"]
    assert [SIGNAL_TYPES.from_name(k.name) for k in REGISTERED] == REGISTERED


@pytest.mark.parametrize("kind", REGISTERED, ids=lambda k: k.name)
def test_every_type_round_trips_its_examples_and_declares_content(kind: SignalType) -> None:
    assert kind.content_types
    assert kind.examples
    for example in kind.examples:
        assert kind.validate(example) == example
        assert kind.validate(kind.validate(example)) == example
        assert kind.compare(example, example).match
        assert kind.matches_at(0, 0)
    assert kind.uses_index == (kind.index_cls is not None)
    assert 0 <= kind.max_distance <= PDQ_MAX_THRESHOLD
    with pytest.raises(InvalidSignal, match=f"invalid {kind.name} hash"):
        kind.validate("not a hash")


def test_content_types_decide_what_a_photo_or_a_video_yields() -> None:
    assert SIGNAL_TYPES.for_content(PHOTO) == (PDQ, MD5, SHA256)
    assert SIGNAL_TYPES.for_content(VIDEO) == (VIDEO_MD5, MD5, SHA256)
    assert SIGNAL_TYPES.for_content(FILE) == (MD5, SHA256)
    assert PHOTO.is_a(FILE) and not FILE.is_a(PHOTO) and not PHOTO.is_a(VIDEO)


def test_a_file_yields_its_byte_digests_then_its_content_types_hashes() -> None:
    md5, sha256, pdq = "a" * 32, "b" * 64, "c" * 64
    photo = MediaHashes("photo", "png", 9, md5, sha256, pdq=pdq, pdq_quality=90)
    assert list(signals_of(photo).items()) == [(MD5, md5), (SHA256, sha256), (PDQ, pdq)]
    plain = MediaHashes("photo", "png", 9, md5, sha256, pdq=pdq, pdq_quality=10)
    assert signals_of(plain) == {MD5: md5, SHA256: sha256} and PDQ.hash_media(plain) is None
    clip = MediaHashes("video", "mp4", 9, md5, sha256)
    assert list(signals_of(clip).items()) == [(MD5, md5), (SHA256, sha256), (VIDEO_MD5, md5)]


def test_validation_rules_and_messages() -> None:
    assert MD5.validate(" ABCDEF0123456789ABCDEF0123456789 ") == "abcdef0123456789abcdef0123456789"
    assert VIDEO_MD5.validate("ABCDEF0123456789ABCDEF0123456789") == (
        "abcdef0123456789abcdef0123456789"
    )
    with pytest.raises(InvalidSignal, match=r"^invalid sha256 hash: expected 64 hex digits$"):
        SHA256.validate("ab" * 31)
    with pytest.raises(InvalidSignal, match=r"^invalid pdq hash: expected 64 hex digits$"):
        PDQ.validate("AB" * 32)  # strict, as pytx
    with pytest.raises(InvalidSignal, match=r"^invalid pdq hash: expected 64 hex digits$"):
        PDQ.validate(" " + "ab" * 32)
    with pytest.raises(UnknownSignalType, match=r"^unknown signal type 'photodna'$"):
        SIGNAL_TYPES.from_name("photodna")


def test_a_pdq_with_a_trailing_newline_is_refused() -> None:
    """63 hex digits and a newline were 64 characters that ``^[0-9a-f]+$`` accepted."""
    with pytest.raises(InvalidSignal):
        PDQ.validate("ab" * 31 + "a\n")


def test_comparison_and_distance_texts() -> None:
    a = "0" * 64
    far = "f" * 8 + "0" * 56  # 32 bits apart
    near = "f" * 7 + "0" * 57  # 28
    assert tuple(PDQ.compare(a, near)) == (True, 28)
    assert tuple(PDQ.compare(a, far)) == (False, 32)
    assert PDQ.matches_at(10, 10) and not PDQ.matches_at(11, 10)
    assert (PDQ.distance_text(3), PDQ.distance_detail(3)) == ("3", {"distance": 3})
    assert PDQ.match_text(3) == "PDQ distance 3"
    assert tuple(MD5.compare("a" * 32, "b" * 32)) == (False, 1)
    assert (MD5.distance_text(0), MD5.distance_detail(0)) == ("-", {})
    assert SHA256.match_text(0) == "exact sha256"


def test_which_index_serves_a_type() -> None:
    assert PDQ.index_cls is PdqIndex and PDQ.uses_index and PDQ.max_distance == 31
    assert not any(kind.uses_index for kind in (MD5, VIDEO_MD5, SHA256))


def test_bare_hashes_are_read_by_the_length_a_type_claims() -> None:
    assert parse_hash("AB" * 32) == (PDQ, "ab" * 32)  # a bare PDQ is lower-cased first
    assert parse_hash("AB" * 16) == (MD5, "ab" * 16)
    assert parse_hash("sha256:" + "ab" * 32) == (SHA256, "ab" * 32)
    assert parse_hash("ab" * 16, "video_md5") == (VIDEO_MD5, "ab" * 16)
    with pytest.raises(InvalidSignal):
        parse_hash("pdq:" + "AB" * 32)  # typed PDQ stays strict
    with pytest.raises(ValueError, match="cannot tell the hash type"):
        parse_hash("ab" * 20)


def test_registration_refuses_what_would_break_elsewhere() -> None:
    registry = SignalTypes()
    registry.register(PDQ)
    with pytest.raises(ValueError, match="registered already"):
        registry.register(PDQ)
    with pytest.raises(ValueError, match="lower_case"):
        registry.register(type("Bad", (TextSha1Signal,), {"name": "Text-SHA1"})())
    with pytest.raises(ValueError, match="no content type"):
        registry.register(type("Bare", (TextSha1Signal,), {"content_types": ()})())
    with pytest.raises(ValueError, match="claim bare hashes of 64"):
        registry.register(type("Long", (TextSha1Signal,), {"bare_length": 64})())
    text = registry.register(TextSha1Signal())
    assert [k.name for k in registry] == ["pdq", "text_sha1"] and len(registry) == 2
    assert text.applies_to(TEXT) and registry.for_content(TEXT) == ()  # only clients send it
    client_only = registry.register(
        type("PhotoOnly", (TextSha1Signal,), {"name": "photo_only", "content_types": (PHOTO,)})()
    )
    assert client_only.applies_to(PHOTO) and registry.for_content(PHOTO) == (PDQ,)


def test_the_toy_type_round_trips_its_example_too() -> None:
    toy = TextSha1Signal()
    (example,) = toy.examples
    assert toy.validate(example) == example == toy.hash_text("An  example PHRASE")
