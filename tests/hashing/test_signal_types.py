"""The signal type registry and its built-in types: what each type declares holds for all."""

from __future__ import annotations

import pytest

from iolaus.hashing.index import PdqIndex
from iolaus.hashing.signals import parse_hash
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
    registry.register(TextSha1Signal())
    assert [k.name for k in registry] == ["pdq", "text_sha1"] and len(registry) == 2
    assert registry.for_content(TEXT)[0].name == "text_sha1"


def test_the_toy_type_round_trips_its_example_too() -> None:
    toy = TextSha1Signal()
    (example,) = toy.examples
    assert toy.validate(example) == example == toy.hash_text("An  example PHRASE")
