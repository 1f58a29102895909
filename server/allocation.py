"""Spend a round's labeling budget across devices.

An allocation policy turns the devices' summaries into the list of candidates to
request. Policies are small classes registered by name (``allocation = "proportional"``
in the config). Every pick carries its score and the reason it was made, so the
selection decision can be explained in the provenance log.

The random slice is drawn first and apart from the policy: ``random_fraction`` of the
budget, uniformly over the union of all devices' unlabeled pools. It is the unbiased
validation sample later rounds measure gains on.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from fedsift.protocols import Summary

from .errors import ConfigError, UnknownPolicyError


@dataclass(frozen=True)
class Pick:
    """One candidate chosen for labeling."""

    device_id: str
    candidate_id: str
    score: float
    reason: str


@dataclass
class Allocation:
    """The round's picks, in the order they were chosen."""

    policy: str
    budget: int
    picks: list[Pick] = field(default_factory=list)

    def by_device(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for p in self.picks:
            out.setdefault(p.device_id, []).append(p.candidate_id)
        return out

    @property
    def random_slice(self) -> set[tuple[str, str]]:
        return {(p.device_id, p.candidate_id) for p in self.picks if p.reason == "random-slice"}


_POLICIES: dict[str, type[AllocationPolicy]] = {}
#: Candidates per requested label the k-center policies consider when called without a factor; a
#: campaign passes its own (``CampaignConfig.shortlist_for``: 4 below 30 devices, 8 from 30 up).
DEFAULT_SHORTLIST_FACTOR = 4
MAX_SHORTLIST_FACTOR = 64


def shortlist_size(n: int, offers: int, factor: int, share: float) -> int:
    """How many of ``offers`` candidates a k-center policy spreads ``n`` picks over.

    The larger of ``factor * n`` and ``share`` of the offers (``kcenter_shortlist`` and
    ``kcenter_shortlist_share``), never more than the offers. ``share`` keeps the score
    filter from tightening as more devices offer candidates: with devices that offer
    their whole small pools, ``factor * n`` is a thin top slice of a weak model's
    ranking (``simulations/benchmarks/FINDINGS.md``).
    """
    return min(offers, max(factor * n, math.ceil(share * offers)))


class AllocationPolicy(ABC):
    """Choose ``n`` candidates from the summaries, skipping ``taken`` ones.

    A policy that takes settings lists them in ``options`` and accepts them as keyword
    arguments of its constructor; :func:`get_policy` hands each policy only its own.
    """

    name: ClassVar[str]
    version: ClassVar[str] = "1"
    options: ClassVar[frozenset[str]] = frozenset()

    @abstractmethod
    def allocate(self, summaries: Sequence[Summary], n: int, taken: set[tuple[str, str]],
                 rng: np.random.Generator) -> list[Pick]:
        """Return at most ``n`` picks."""


def register_policy(cls: type[AllocationPolicy]) -> type[AllocationPolicy]:
    """Class decorator adding a policy to the registry under ``cls.name``."""
    _POLICIES[cls.name] = cls
    return cls


def get_policy(name: str, **options: Any) -> AllocationPolicy:
    """Instantiate the policy registered under ``name`` with the ``options`` it takes (others are ignored)."""
    try:
        cls = _POLICIES[name]
    except KeyError:
        raise UnknownPolicyError(name, list(_POLICIES)) from None
    return cls(**{k: v for k, v in options.items() if k in cls.options})


def available_policies() -> list[str]:
    return sorted(_POLICIES)


def _candidates(s: Summary, taken: set[tuple[str, str]]) -> list[tuple[str, float]]:
    return [(cid, float(sc)) for cid, sc in zip(s.candidate_ids, s.scores) if (s.device_id, cid) not in taken]


@register_policy
class GlobalTopK(AllocationPolicy):
    """The ``n`` highest-scored candidates over all devices (scores must be comparable)."""

    name = "global_topk"

    def allocate(self, summaries: Sequence[Summary], n: int, taken: set[tuple[str, str]],
                 rng: np.random.Generator) -> list[Pick]:
        pool = [(sc, s.device_id, cid) for s in summaries for cid, sc in _candidates(s, taken)]
        pool.sort(key=lambda t: (-t[0], t[1], t[2]))
        return [Pick(d, c, sc, "global-top-k") for sc, d, c in pool[:n]]


def largest_remainder(weights: np.ndarray, n: int, caps: np.ndarray) -> np.ndarray:
    """Integer quotas summing to ``min(n, caps.sum())``, proportional to ``weights``, within caps."""
    quotas = np.zeros(len(weights), dtype=np.int64)
    remaining = min(n, int(caps.sum()))
    active = caps > 0
    while remaining > 0 and active.any():
        w = np.where(active, weights, 0.0)
        w = w / w.sum() if w.sum() > 0 else active / active.sum()
        share = w * remaining
        add = np.floor(share).astype(np.int64)
        rest = remaining - int(add.sum())
        if rest > 0:
            order = np.lexsort((np.arange(len(w)), -(share - add)))
            order = [i for i in order if active[i]]
            for i in order[:rest]:
                add[i] += 1
        add = np.minimum(add, caps - quotas)
        quotas += add
        remaining -= int(add.sum())
        active = quotas < caps
        if add.sum() == 0:
            break
    return quotas


@register_policy
class ProportionalToPool(AllocationPolicy):
    """Each device gets a share ∝ its unlabeled pool size, spent on its own top candidates."""

    name = "proportional"

    def allocate(self, summaries: Sequence[Summary], n: int, taken: set[tuple[str, str]],
                 rng: np.random.Generator) -> list[Pick]:
        cands = [_candidates(s, taken) for s in summaries]
        weights = np.array([s.pool_size for s in summaries], dtype=float)
        caps = np.array([len(c) for c in cands], dtype=np.int64)
        quotas = largest_remainder(weights, n, caps)
        picks = []
        for s, c, q in zip(summaries, cands, quotas):
            picks += [Pick(s.device_id, cid, sc, "pool-share-top") for cid, sc in c[:q]]
        return picks


@register_policy
class ProportionalToUncertainty(AllocationPolicy):
    """Each device gets a share ∝ its uncertainty mass (Σ score over its pool, from the histogram)."""

    name = "uncertainty_mass"

    def allocate(self, summaries: Sequence[Summary], n: int, taken: set[tuple[str, str]],
                 rng: np.random.Generator) -> list[Pick]:
        cands = [_candidates(s, taken) for s in summaries]
        masses = []
        for s in summaries:
            edges = np.linspace(s.hist_range[0], s.hist_range[1], len(s.histogram) + 1)
            centers = np.maximum((edges[:-1] + edges[1:]) / 2, 0.0)
            masses.append(float((centers * s.histogram).sum()))
        weights = np.array(masses) if sum(masses) > 0 else np.array([s.pool_size for s in summaries], float)
        quotas = largest_remainder(weights, n, np.array([len(c) for c in cands], dtype=np.int64))
        picks = []
        for s, c, q in zip(summaries, cands, quotas):
            picks += [Pick(s.device_id, cid, sc, "uncertainty-share-top") for cid, sc in c[:q]]
        return picks


@register_policy
class DiversityOverSketches(AllocationPolicy):
    """Cross-device diversity: k-center greedy over all candidates' sketches.

    Shortlists the ``shortlist_factor * n`` best-scored candidates of all devices, then
    picks, starting from the best, each candidate farthest (in sketch space) from those
    already picked, so two devices' near-duplicates are not both labeled. Needs
    ``sketch_dim > 0``; without sketches it is global top-k. k-center greedy by hand
    (numpy, incremental distances): the server may not import the edge runtime's copy.

    ``shortlist_factor`` (the campaign's ``kcenter_shortlist``) trades the devices' scores
    against spread: the scores of a federated model trained on a few labels per device
    rank candidates poorly, and a wider shortlist leans on the sketches instead
    (``simulations/benchmarks/FINDINGS.md``). ``shortlist_share`` (the campaign's
    ``kcenter_shortlist_share``, 0 = off) widens it to at least that share of the offers
    (:func:`shortlist_size`). Its cost grows linearly with the shortlist.

    References: Sener & Savarese, ICLR 2018 (k-center); Ash et al., ICLR 2020.
    """

    name = "diversity"
    options = frozenset({"shortlist_factor", "shortlist_share"})
    reason: ClassVar[str] = "cross-device-diversity"  # each pick's reason, for the provenance log

    def __init__(self, shortlist_factor: int = DEFAULT_SHORTLIST_FACTOR, shortlist_share: float = 0.0) -> None:
        if not 1 <= shortlist_factor <= MAX_SHORTLIST_FACTOR:
            raise ConfigError("kcenter_shortlist", shortlist_factor, f"must be in [1, {MAX_SHORTLIST_FACTOR}]")
        if not 0.0 <= shortlist_share <= 1.0:
            raise ConfigError("kcenter_shortlist_share", shortlist_share, "must be in [0, 1]")
        self.shortlist_factor = shortlist_factor
        self.shortlist_share = shortlist_share

    def shortlist(self, summaries: Sequence[Summary], n: int,
                  taken: set[tuple[str, str]]) -> list[tuple[float, str, str, np.ndarray]]:
        """(score, device, candidate, sketch) rows k-center runs over, best score first."""
        rows = [(float(sc), s.device_id, cid, s.sketches[j]) for s in summaries
                for j, (cid, sc) in enumerate(zip(s.candidate_ids, s.scores)) if (s.device_id, cid) not in taken]
        rows.sort(key=lambda t: (-t[0], t[1], t[2]))
        return rows[: shortlist_size(n, len(rows), self.shortlist_factor, self.shortlist_share)]

    def allocate(self, summaries: Sequence[Summary], n: int, taken: set[tuple[str, str]],
                 rng: np.random.Generator) -> list[Pick]:
        rows = self.shortlist(summaries, n, taken) if n > 0 else []
        if not rows:
            return []
        sk = np.stack([r[3] for r in rows]).astype(np.float32)
        if sk.shape[1] == 0:
            return [Pick(d, c, sc, "global-top-k") for sc, d, c, _ in rows[:n]]
        dist = np.full(len(rows), np.inf, dtype=np.float32)
        picks: list[Pick] = []
        i = 0
        for _ in range(min(n, len(rows))):
            sc, d, c, _ = rows[i]
            picks.append(Pick(d, c, sc, self.reason))
            diff = sk - sk[i]
            dist = np.minimum(dist, np.einsum("ij,ij->i", diff, diff))
            dist[i] = -1.0
            i = int(np.argmax(dist))
        return picks


@register_policy
class PoolWeightedDiversity(DiversityOverSketches):
    """Cold-start allocation: k-center greedy over a shortlist drawn in proportion to pool size.

    In the cold-start rounds each device offers a uniform sample of its pool, but the same
    number of candidates whatever its pool size, so the union over-represents small
    pools. Under label skew (small Dirichlet alpha) that is a skewed class mix: on
    rt-text at alpha 0.1 one seed's union held 37% positives against 58% in the pools,
    and k-center's batch followed it. This policy shortlists each device's best
    candidates in proportion to its pool size (largest remainder), the shortlist kept
    small enough that no device's candidates run out, so it is a uniform sample of the
    union of pools; k-center then spreads the batch over it.
    """

    name = "pool-diversity"
    reason = "pool-weighted-diversity"
    # No shortlist share here: widened to 35% of the offers, the cold start's first batch cost
    # `auto` 2.9 and 4.1 points on digits at 50 clients (alpha 0.5 / 0.1; FINDINGS.md). A
    # guess at why: k-center over more of a uniform sample reaches more outliers.
    options = frozenset({"shortlist_factor"})

    def __init__(self, shortlist_factor: int = DEFAULT_SHORTLIST_FACTOR) -> None:
        super().__init__(shortlist_factor)

    def shortlist(self, summaries: Sequence[Summary], n: int,
                  taken: set[tuple[str, str]]) -> list[tuple[float, str, str, np.ndarray]]:
        live = [(s, [j for j, cid in enumerate(s.candidate_ids) if (s.device_id, cid) not in taken])
                for s in summaries if s.pool_size > 0]
        live = [(s, idx) for s, idx in live if idx]
        if not live:
            return []
        pools = np.array([s.pool_size for s, _ in live], dtype=float)
        caps = np.array([len(idx) for _, idx in live], dtype=np.int64)
        # the largest shortlist whose proportional quotas fit every device's candidates
        fits = int(np.floor((caps / pools).min() * pools.sum()))
        size = min(self.shortlist_factor * n, int(caps.sum()), max(fits, n))
        quotas = largest_remainder(pools, size, caps)
        rows = []
        for (s, idx), q in zip(live, quotas):
            best = sorted(idx, key=lambda j: (-float(s.scores[j]), s.candidate_ids[j]))[:q]
            rows += [(float(s.scores[j]), s.device_id, s.candidate_ids[j], s.sketches[j]) for j in best]
        rows.sort(key=lambda t: (-t[0], t[1], t[2]))
        return rows


class _ClusteredSketches(AllocationPolicy):
    """Base of the cold-start policies: k-means over the candidates' sketches, then ``choose``.

    Clusters at most ``max_points`` candidates (a uniform draw of them when there are
    more) into ``n`` clusters; without sketches, or with no more candidates than ``n``,
    a uniform draw of the candidates. scikit-learn's k-means, imported when it runs.
    """

    max_points: ClassVar[int] = 4000
    reason: ClassVar[str]  # each pick's reason, for the provenance log

    def allocate(self, summaries: Sequence[Summary], n: int, taken: set[tuple[str, str]],
                 rng: np.random.Generator) -> list[Pick]:
        rows = [(s.device_id, cid, s.sketches[j]) for s in summaries
                for j, cid in enumerate(s.candidate_ids) if (s.device_id, cid) not in taken]
        if len(rows) > self.max_points:
            rows = [rows[i] for i in np.sort(rng.choice(len(rows), self.max_points, replace=False))]
        k = min(n, len(rows))
        if k <= 0:
            return []
        if rows[0][2].shape[0] == 0 or k == len(rows):
            return [Pick(rows[i][0], rows[i][1], 0.0, "cold-start-uniform") for i in rng.permutation(len(rows))[:k]]
        from sklearn.cluster import KMeans

        sk = np.stack([r[2] for r in rows]).astype(np.float64)
        labels = KMeans(n_clusters=k, n_init=1, random_state=int(rng.integers(2**31 - 1))).fit_predict(sk)
        return [Pick(rows[i][0], rows[i][1], score, self.reason)
                for i, score in self.choose(sk, labels, k, rng)][:n]

    @abstractmethod
    def choose(self, sketches: np.ndarray, labels: np.ndarray, k: int,
               rng: np.random.Generator) -> list[tuple[int, float]]:
        """Up to ``k`` (row, score) picks given each row's cluster label."""


@register_policy
class TypicalOverSketches(_ClusteredSketches):
    """Cold-start allocation: the most typical candidate of each cluster of sketches.

    TypiClust across devices. Takes, from the largest cluster down, each cluster's most
    typical member: highest inverse mean distance to its ``neighbours`` nearest
    candidates. Scores are ignored: it is meant for the first rounds
    (``cold_start_allocation``), when the devices' candidates are a uniform sample of
    their pools and an untrained model's scores are noise. k-center greedy
    (``diversity``) on such a sample favours outliers; with only a few labels, typical
    items teach more.

    References: Hacohen, Dekel & Weinshall, "Active Learning on a Budget", ICML 2022.
    """

    name = "typical"
    reason = "cold-start-typical"
    neighbours: ClassVar[int] = 20

    def choose(self, sketches: np.ndarray, labels: np.ndarray, k: int,
               rng: np.random.Generator) -> list[tuple[int, float]]:
        from sklearn.neighbors import NearestNeighbors

        kk = min(self.neighbours, len(sketches) - 1)
        dist, _ = NearestNeighbors(n_neighbors=kk + 1).fit(sketches).kneighbors(sketches)
        typicality = 1.0 / (dist[:, 1:].mean(axis=1) + 1e-12)  # column 0 is the point itself
        sizes = np.bincount(labels, minlength=k)
        picks = []
        for c in np.argsort(-sizes, kind="stable"):
            members = np.flatnonzero(labels == c)
            if len(members):
                i = int(members[np.argmax(typicality[members])])
                picks.append((i, float(typicality[i])))
        return picks


@register_policy
class StratifiedOverSketches(_ClusteredSketches):
    """Cold-start allocation: a random sample stratified by clusters of sketches.

    Gives each cluster a share of the ``n`` picks proportional to its size (largest
    remainder) and draws its share uniformly from its members. Each candidate keeps
    about the chance a uniform draw gives it, but a batch cannot miss a large region of
    the data by bad luck: random sampling with less variance.
    """

    name = "stratified"
    reason = "cold-start-stratified"

    def choose(self, sketches: np.ndarray, labels: np.ndarray, k: int,
               rng: np.random.Generator) -> list[tuple[int, float]]:
        sizes = np.bincount(labels, minlength=k)
        quotas = largest_remainder(sizes.astype(float), k, sizes)
        return [(int(i), 0.0) for c in range(k) for i in rng.permutation(np.flatnonzero(labels == c))[: quotas[c]]]


def draw_random_slice(summaries: Sequence[Summary], n: int, rng: np.random.Generator) -> list[Pick]:
    """``n`` items uniformly over the union of pools, from each device's random offers.

    A device is drawn with probability ∝ its pool size, then gives its next offered
    random id; exhausted devices drop out.
    """
    offers = {s.device_id: list(s.random_ids) for s in summaries}
    sizes = {s.device_id: s.pool_size for s in summaries}
    devices = sorted(offers)
    picks: list[Pick] = []
    while len(picks) < n:
        live = [d for d in devices if offers[d] and sizes[d] > 0]
        if not live:
            break
        w = np.array([sizes[d] for d in live], dtype=float)
        d = live[int(rng.choice(len(live), p=w / w.sum()))]
        picks.append(Pick(d, offers[d].pop(0), 0.0, "random-slice"))
        sizes[d] -= 1
    return picks


def plan_allocation(summaries: Sequence[Summary], budget: int, policy: str, random_fraction: float,
                    rng: np.random.Generator, max_per_device: int = 0, normal_share: float = 0.0,
                    shortlist_factor: int = DEFAULT_SHORTLIST_FACTOR, shortlist_share: float = 0.0) -> Allocation:
    """The round's allocation: the random slice, a share of "normal" items, then the policy.

    Parameters
    ----------
    summaries : sequence of Summary
        Valid summaries of this round, sorted by device id.
    budget : int
        Labels to request.
    policy : str
        Registered allocation policy.
    random_fraction : float
        Share of ``budget`` for the random slice.
    rng : numpy.random.Generator
        Seeded per round.
    max_per_device : int
        Cap on one device's picks this round (0 = none); the policy's excess goes to others.
    normal_share : float
        Minimum share of the budget spent on ordinary (non-hard) items: uniformly drawn
        like the random slice, but trained on and not used for validation.
    shortlist_factor : int
        For the k-center policies (``diversity``, ``pool-diversity``): candidates
        considered per label requested.
    shortlist_share : float
        For ``diversity``: the least share of the offered candidates considered
        (0 = ``shortlist_factor`` alone).

    Returns
    -------
    Allocation
    """
    n_random = int(round(budget * random_fraction))
    alloc = Allocation(policy=policy, budget=budget)
    alloc.picks += draw_random_slice(summaries, n_random, rng)
    n_normal = int(round(budget * normal_share))
    if n_normal:
        taken = {(p.device_id, p.candidate_id) for p in alloc.picks}
        remaining = [_without(s, taken) for s in summaries]
        alloc.picks += [Pick(p.device_id, p.candidate_id, 0.0, "normal-share")
                        for p in draw_random_slice(remaining, n_normal, rng)]
    chooser = get_policy(policy, shortlist_factor=shortlist_factor, shortlist_share=shortlist_share)
    for _ in range(4):  # refill what the per-device cap dropped, a bounded number of times
        want = budget - len(alloc.picks)
        if want <= 0:
            break
        taken = {(p.device_id, p.candidate_id) for p in alloc.picks}
        capped = [s for s in summaries if max_per_device <= 0 or
                  sum(p.device_id == s.device_id for p in alloc.picks) < max_per_device]
        new = chooser.allocate(capped, want, taken, rng)
        if max_per_device > 0:
            counts: dict[str, int] = {}
            for p in alloc.picks:
                counts[p.device_id] = counts.get(p.device_id, 0) + 1
            kept = []
            for p in new:
                if counts.get(p.device_id, 0) < max_per_device:
                    kept.append(p)
                    counts[p.device_id] = counts.get(p.device_id, 0) + 1
            new = kept
        if not new:
            break
        alloc.picks += new
    return alloc


def _without(s: Summary, taken: set[tuple[str, str]]) -> Summary:
    from dataclasses import replace

    return replace(s, random_ids=[r for r in s.random_ids if (s.device_id, r) not in taken])
