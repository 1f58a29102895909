"""fedsift's recognizer set: Presidio's pattern recognizers plus our fixes to their gaps.

Each fix is a small :class:`~presidio_analyzer.PatternRecognizer` subclass with
``PATTERNS`` and ``CONTEXT`` class attributes and a ``validate_result`` hook, added
*beside* Presidio's own recognizer for the same entity (never an edit of Presidio):

- :class:`Mastercard2SeriesRecognizer` - Presidio's card regex only accepts
  Mastercard prefixes 51-55, so the 2-series range 2221-2720 (issued since 2017) is missed.
- :class:`Visa19Recognizer` - Presidio's card regex spans 13-17 digits; Visa also
  issues 19-digit numbers.
- :class:`TextualDateRecognizer` - Presidio's date patterns are numeric only, so
  "October 03, 1953" or "3 Oct 1953" are missed.
- :class:`WebUrlRecognizer` - Presidio's URL regex ends in a fixed TLD list without a
  word boundary: ``https://shop.biz/`` is cut to ``https://shop.bi`` and "z/" survives.
- :class:`StreetAddressRecognizer` - Presidio has no street-address recognizer.
- :class:`NanpPhoneRecognizer` - Presidio's phone recognizer (python-phonenumbers)
  only accepts *valid* numbers; numbers with unassigned area codes or long extensions
  are still personal data in a message.

Recognizers are registered by name in :data:`RECOGNIZERS`; a masking policy picks them
by name (:data:`DEFAULT_RECOGNIZERS` when it does not say).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Sequence

# tldextract (used by Presidio's email recognizer) must not fetch the public suffix list;
# set before presidio is imported, as fedsift.privacy.masking and fedsift.offline do.
os.environ["TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS"] = ""

from presidio_analyzer import EntityRecognizer, Pattern, PatternRecognizer  # noqa: E402
from presidio_analyzer.predefined_recognizers import (  # noqa: E402
    CreditCardRecognizer,
    DateRecognizer,
    EmailRecognizer,
    IbanRecognizer,
    IpRecognizer,
    PhoneRecognizer,
    UrlRecognizer,
    UsSsnRecognizer,
)

logger = logging.getLogger(__name__)

# Case-sensitive by default; patterns opt into case-insensitivity with (?i:...).
_FLAGS = re.DOTALL | re.MULTILINE


def luhn_valid(digits: str) -> bool:
    """Whether a string of decimal digits passes the Luhn (mod 10) checksum.

    Written here because Presidio's Luhn check is a private method of
    ``CreditCardRecognizer`` and no installed library exposes one.

    Parameters
    ----------
    digits : str
        Only the digits of the candidate number (separators removed).

    Returns
    -------
    bool
        True when the checksum is 0 mod 10.
    """
    if not digits or not digits.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


class _CardRecognizer(PatternRecognizer):
    """Shared constructor and Luhn validation of our card recognizers."""

    PATTERNS: list[Pattern] = []
    CONTEXT = ["credit", "card", "visa", "mastercard", "cc", "payment"]
    LENGTHS: tuple[int, ...] = ()

    def __init__(self, supported_language: str = "en") -> None:
        super().__init__(
            supported_entity="CREDIT_CARD",
            patterns=self.PATTERNS,
            context=self.CONTEXT,
            supported_language=supported_language,
            name=type(self).__name__,
            global_regex_flags=_FLAGS,
        )

    def validate_result(self, pattern_text: str) -> bool:
        """Accept only numbers of the expected length that pass the Luhn checksum."""
        digits = _digits(pattern_text)
        return len(digits) in self.LENGTHS and luhn_valid(digits)


class Mastercard2SeriesRecognizer(_CardRecognizer):
    """Mastercard numbers in the 2-series BIN range 2221-2720 (16 digits, Luhn-checked)."""

    PATTERNS = [
        Pattern(
            "Mastercard 2-series",
            r"\b2(?:22[1-9]|2[3-9]\d|[3-6]\d\d|7[01]\d|720)(?:[- ]?\d{4}){3}\b",
            0.5,
        )
    ]
    LENGTHS = (16,)


class Visa19Recognizer(_CardRecognizer):
    """19-digit Visa numbers, contiguous or in groups of four (Luhn-checked)."""

    PATTERNS = [Pattern("Visa 19 digits", r"\b4\d{3}(?:[- ]?\d{4}){3}[- ]?\d{3}\b", 0.5)]
    LENGTHS = (19,)


_MONTH = (
    r"(?i:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_DAY = r"(?:0?[1-9]|[12]\d|3[01])(?i:st|nd|rd|th)?"
_YEAR = r"(?:1[6-9]|2\d)\d\d"


class TextualDateRecognizer(PatternRecognizer):
    """Dates with a month name: "October 03, 1953", "Oct 3rd 1953", "3 October 1953"."""

    PATTERNS = [
        Pattern("month day, year", rf"\b{_MONTH}\s+{_DAY},?\s+{_YEAR}\b", 0.6),
        Pattern("day month year", rf"\b{_DAY}\s+(?i:of\s+)?{_MONTH},?\s+{_YEAR}\b", 0.6),
        Pattern("month year", rf"\b{_MONTH},?\s+{_YEAR}\b", 0.4),
    ]
    CONTEXT = ["date", "born", "birthday", "dob", "on"]

    def __init__(self, supported_language: str = "en") -> None:
        super().__init__(
            supported_entity="DATE_TIME",
            patterns=self.PATTERNS,
            context=self.CONTEXT,
            supported_language=supported_language,
            name=type(self).__name__,
            global_regex_flags=_FLAGS,
        )

    def validate_result(self, pattern_text: str) -> bool | None:
        """Drop a bare "may 2020" (the verb, lower case); no opinion otherwise."""
        return False if re.fullmatch(r"may\s+\d{4}", pattern_text.strip()) else None


class WebUrlRecognizer(PatternRecognizer):
    """URLs with a scheme or a ``www.`` host, up to the next space, whatever the TLD."""

    PATTERNS = [
        Pattern("scheme url", r"(?i:\b(?:https?|ftp)://)[^\s<>\"'`]+[^\s<>\"'`.,;:!?)\]}]", 0.6),
        Pattern("www url", r"(?i:\bwww\d{0,3}\.)[^\s<>\"'`]+[^\s<>\"'`.,;:!?)\]}]", 0.5),
    ]
    CONTEXT = ["url", "website", "link", "site"]

    def __init__(self, supported_language: str = "en") -> None:
        super().__init__(
            supported_entity="URL",
            patterns=self.PATTERNS,
            context=self.CONTEXT,
            supported_language=supported_language,
            name=type(self).__name__,
            global_regex_flags=_FLAGS,
        )

    def validate_result(self, pattern_text: str) -> bool | None:
        """Drop hits whose host has no dot (``http://x``); no opinion otherwise."""
        host = re.sub(r"(?i)^(?:https?|ftp)://", "", pattern_text).split("/", 1)[0]
        ok = "." in host or host.startswith("[") or host.lower().startswith("localhost")
        return None if ok else False


# USPS street suffixes (Publication 28, appendix C1), full names and common abbreviations.
_STREET_SUFFIXES = """
Alley Aly Annex Anx Arcade Arc Avenue Ave Av Bayou Byu Beach Bch Bend Bnd Bluff Blf Bluffs
Bottom Btm Boulevard Blvd Branch Br Bridge Brg Brook Brk Brooks Burg Burgs Bypass Byp Camp
Cp Canyon Cyn Cape Cpe Causeway Cswy Center Ctr Centers Circle Cir Circles Cliff Clf Cliffs
Club Clb Common Commons Corner Cor Corners Course Crse Court Ct Courts Cove Cv Coves Creek
Crk Crescent Cres Crest Crossing Xing Crossroad Crossroads Curve Dale Dl Dam Dm Divide Dv
Drive Dr Drives Estate Est Estates Expressway Expy Extension Ext Extensions Fall Falls Fls
Ferry Fry Field Fld Fields Flat Flt Flats Ford Frd Fords Forest Frst Forge Frg Forges Fork
Frk Forks Fort Ft Freeway Fwy Garden Gdn Gardens Gateway Gtwy Glen Gln Glens Green Grn
Greens Grove Grv Groves Harbor Hbr Harbors Haven Hvn Heights Hts Highway Hwy Hill Hl Hills
Hollow Holw Inlet Inlt Island Is Islands Isle Junction Jct Junctions Key Ky Keys Knoll Knl
Knolls Lake Lk Lakes Land Landing Lndg Lane Ln Light Lgt Lights Loaf Lf Lock Lck Locks Lodge
Ldg Loop Mall Manor Mnr Manors Meadow Mdw Meadows Mews Mill Ml Mills Mission Msn Motorway
Mtwy Mount Mt Mountain Mtn Mountains Neck Nck Orchard Orch Oval Overpass Opas Park Prk Parks
Parkway Pkwy Parkways Pass Passage Psge Path Pike Pine Pne Pines Place Pl Plain Pln Plains
Plaza Plz Point Pt Points Port Prt Ports Prairie Pr Radial Radl Ramp Ranch Rnch Rapid Rpd
Rapids Rest Rst Ridge Rdg Ridges River Riv Road Rd Roads Route Rte Row Rue Run Shoal Shl
Shoals Shore Shr Shores Skyway Skwy Spring Spg Springs Spur Spurs Square Sq Squares Station
Sta Stravenue Stra Stream Strm Street St Streets Summit Smt Terrace Ter Throughway Trwy Trace
Trce Track Trak Trafficway Trfy Trail Trl Trailer Trlr Tunnel Tunl Turnpike Tpke Underpass
Upas Union Un Unions Valley Vly Valleys Via Viaduct Vdct View Vw Views Village Vlg Villages
Ville Vl Vista Vis Walk Walks Wall Way Ways Well Wl Wells
""".split()
_SUFFIX_RE = "|".join(sorted(set(_STREET_SUFFIXES), key=len, reverse=True))
_NAME_WORD = r"(?:[A-Z][A-Za-z'\-]*|\d{1,3}(?i:st|nd|rd|th))"
_UNIT = r"(?:,?\s+(?i:apt\.?|apartment|suite|ste\.?|unit|#)\s*[A-Za-z0-9\-]{1,8})?"


class StreetAddressRecognizer(PatternRecognizer):
    """US-style street lines: number, capitalised street name, USPS suffix, optional unit.

    E.g. "4820 Olsen Union Apt. 056", "12 N. Main St", "9150 Williams Ridge".
    """

    PATTERNS = [
        Pattern(
            "street line",
            rf"\b\d{{1,6}}[A-Za-z]?\s+(?:(?i:[NSEW]\.?|north|south|east|west)\s+)?"
            rf"(?:{_NAME_WORD}\s+){{1,4}}(?:{_SUFFIX_RE})\b\.?{_UNIT}",
            0.5,
        )
    ]
    CONTEXT = ["address", "live", "lives", "street", "ship", "deliver", "mail"]

    def __init__(self, supported_language: str = "en") -> None:
        super().__init__(
            supported_entity="ADDRESS",
            patterns=self.PATTERNS,
            context=self.CONTEXT,
            supported_language=supported_language,
            name=type(self).__name__,
            global_regex_flags=_FLAGS,
        )


class NanpPhoneRecognizer(PatternRecognizer):
    """North-American-format phone numbers by shape, valid area code or not.

    Catches ``(294)820-8093x97298`` and ``+1-537-640-6812x41586`` which the
    phonenumbers-based recognizer rejects as invalid numbers.
    """

    PATTERNS = [
        Pattern(
            "nanp phone",
            r"(?:(?<![\w+])(?:\+?1[-. ]?|001[-. ])?)(?:\(\d{3}\)\s?|\b\d{3}[-. ])\d{3}[-. ]\d{4}(?!\d)"
            r"(?:\s?(?i:x|ext\.?|extension)\s?\d{1,6}\b)?",
            0.4,
        )
    ]
    CONTEXT = ["phone", "call", "tel", "mobile", "cell", "number", "fax"]

    def __init__(self, supported_language: str = "en") -> None:
        super().__init__(
            supported_entity="PHONE_NUMBER",
            patterns=self.PATTERNS,
            context=self.CONTEXT,
            supported_language=supported_language,
            name=type(self).__name__,
            global_regex_flags=_FLAGS,
        )


RecognizerFactory = Callable[[], EntityRecognizer]

#: Every recognizer a policy may name. Presidio's own ones keep their defaults.
RECOGNIZERS: dict[str, RecognizerFactory] = {
    "email": EmailRecognizer,
    "phone": PhoneRecognizer,
    "phone_nanp": NanpPhoneRecognizer,
    "credit_card": CreditCardRecognizer,
    "credit_card_mastercard_2series": Mastercard2SeriesRecognizer,
    "credit_card_visa19": Visa19Recognizer,
    "iban": IbanRecognizer,
    "ip": IpRecognizer,
    "url": UrlRecognizer,
    "url_web": WebUrlRecognizer,
    "us_ssn": UsSsnRecognizer,
    "date": DateRecognizer,
    "date_textual": TextualDateRecognizer,
    "street_address": StreetAddressRecognizer,
}

#: fedsift's default set: all of the above.
DEFAULT_RECOGNIZERS: tuple[str, ...] = tuple(RECOGNIZERS)

#: Entities the optional spaCy model may contribute; all its other labels are ignored.
SPACY_ENTITY_MAPPING: dict[str, str] = {
    "PERSON": "PERSON",
    "PER": "PERSON",
    "GPE": "LOCATION",
    "LOC": "LOCATION",
    "FAC": "LOCATION",
}


def register_recognizer(name: str, factory: RecognizerFactory) -> None:
    """Make a recognizer available to policies under ``name``.

    Parameters
    ----------
    name : str
        The name a policy uses in its ``recognizers`` list.
    factory : callable
        Called with no arguments; returns a Presidio ``EntityRecognizer``.
    """
    if name in RECOGNIZERS and RECOGNIZERS[name] is not factory:
        logger.warning("recognizer %r replaced by %r", name, factory)
    RECOGNIZERS[name] = factory


def build_recognizers(names: Sequence[str]) -> list[EntityRecognizer]:
    """Instantiate the named recognizers, in order.

    Parameters
    ----------
    names : sequence of str
        Keys of :data:`RECOGNIZERS`.

    Returns
    -------
    list of EntityRecognizer

    Raises
    ------
    KeyError
        When a name is not registered (the caller turns it into a MaskingError).
    """
    return [RECOGNIZERS[name]() for name in names]
