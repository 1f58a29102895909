"""Campaign settings: one dataclass with defaults, checked once."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from .errors import ConfigError

AUTO_REWARDS = ("brier", "accuracy", "test")

#: The k-center shortlist width ``kcenter_shortlist`` 0 gives below and from ``LARGE_FEDERATION``
#: devices (``simulations/benchmarks/shortlist_table.py`` prints the bars at both widths).
SMALL_FEDERATION_SHORTLIST, LARGE_FEDERATION_SHORTLIST, LARGE_FEDERATION = 4, 8, 30


@dataclass
class CampaignConfig:
    """Everything the ServerApp needs to run an active-learning campaign.

    Parameters
    ----------
    num_features, num_classes : int
        Input width and number of classes of the model (set by the data source).
    rounds : int
        Active-learning rounds (query, label, train, evaluate, publish).
    budget : int
        Labels requested per round.
    strategy : str
        Acquisition strategy the devices score with; ``auto`` (the default bandit over
        ``auto_arms``) or ``round-robin`` (the arms in turn, its no-learning baseline)
        choose one each round.
    allocation : str
        Allocation policy that spends the budget across devices; the default,
        ``diversity``, runs k-center greedy over every device's candidate sketches.
    cold_start_rounds : int
        First rounds that sample at random: an untrained model's uncertainty is noise.
        Their random candidates are spent by ``cold_start_allocation``.
    cold_start_allocation : str
        Allocation policy of the cold-start rounds ("" = ``allocation``). The default,
        ``pool-diversity``, runs k-center greedy over a shortlist of the devices' random
        candidates drawn in proportion to their pool sizes, so the first batch is spread
        over the data and follows its class mix under label skew; ``diversity`` runs
        k-center over all candidates (every device offers as many, so small pools weigh
        more); ``typical`` (TypiClust over sketches) takes the most typical candidate of
        each cluster of them; ``stratified`` keeps the batch random but stratified by
        cluster; ``proportional`` keeps it uniformly random. Compared by
        ``simulations/benchmarks/cold_start.py``: none wins on every data set.
    kcenter_shortlist : int
        For the k-center allocations (``diversity``, ``pool-diversity``): candidates
        considered per label requested, best-scored first. Wider leans less on the
        devices' scores and more on the sketches' spread; the k-center step's time grows
        with it. 0 (the default) chooses by the federation's size (:meth:`shortlist_for`):
        ``SMALL_FEDERATION_SHORTLIST`` (4) below ``large_federation`` devices,
        ``LARGE_FEDERATION_SHORTLIST`` (8) from there up. Measured in
        ``simulations/benchmarks/FINDINGS.md``: from 30 devices up, 4 leaves hybrid's
        federated selection more than 2 points behind central on MNIST-1D and 8 does not;
        below 30, 8 costs ``auto`` on digits (the headline) and on text at alpha 0.1.
    large_federation : int
        Devices (the ones the server has heard from) from which ``kcenter_shortlist`` 0
        means 8 rather than 4.
    cold_start_shortlist : int
        ``kcenter_shortlist`` for the cold-start rounds alone (0 = the selection rounds' width),
        so a wider selection shortlist need not change the cold start's first batch. At
        25 clients, 4 here under a selection shortlist of 8 recovers the default's first
        batch on digits but not the rest of 8's cost there, and keeps about half of 8's
        gain in the MNIST-1D federated-selection gap (``simulations/benchmarks/FINDINGS.md``).
    kcenter_shortlist_share : float
        For the ``diversity`` allocation (not the cold start's): the least share of the
        round's offered candidates the shortlist holds (0 = off: ``kcenter_shortlist``
        alone). With many devices that each offer their whole small pool,
        ``kcenter_shortlist`` x n is a thin top slice of the scores; a share keeps the
        filter as loose as with few devices. It costs where the model ranks well
        (digits at 50 clients), so it is off by default.
    random_fraction : float
        Share of every round's budget spent on a uniformly random slice of all pools.
    top_k : int
        Candidates per device per round (0 = the budget).
    sketch_dim : int
        Width of candidate embedding sketches (0 = none; the ``diversity`` allocation
        then falls back to global top-k).
    hidden : list of int
        Hidden layer widths of the MLP.
    train_rounds : int
        Training waves (Flower FedAvg / FedAvgM rounds) per active-learning round, each
        one message wave: with few labels per device one averaging step leaves the model
        far from converged. 0 = no training at all (then ``warmup_train_rounds`` too).
    warmup_train_rounds : int
        Training waves in the first round, which starts from the random initialization
        (later rounds continue from the last global model); 0 = ``train_rounds``. It
        costs the first round extra message waves and closes most of the gap to central
        training at the first few dozen labels (``simulations/benchmarks/fed_training.py``).
    local_epochs, local_min_steps, batch_size : int
        Local training on each device: few steps per wave, so that a device's handful of
        labels of two or three classes pulls the model less far from the others'.
    lr, weight_decay : float
        Local optimizer.
    max_per_device : int
        Most labels one device is asked for per round (0 = no cap).
    normal_share : float
        Minimum share of each budget spent on uniformly drawn "normal" items.
    total_budget : int
        Labels for the whole campaign (0 = rounds x budget).
    annotators, labels_per_annotator : int
        Labeling capacity per round (0 annotators = unlimited).
    min_gain_per_100, patience : float, int
        Stopping rule: stop when the validation gain per 100 labels stays below
        ``min_gain_per_100`` for ``patience`` rounds (0 = never stop early).
    auto_arms : list of str
        Strategies the ``auto`` strategy chooses among. The default pair both mix
        uncertainty with diversity; pure uncertainty (margin, entropy) falls below random
        on hard data at small budgets (MNIST-1D), and a bandit judged on ten-odd slice
        items a round cannot tell arms that close apart fast enough to avoid the cost.
    auto_reward : str
        What ``auto`` rewards an arm with, measured on each round's fresh random slice:
        ``brier`` (default: the paired drop in Brier score, which moves with every item's
        confidence and so is far less noisy on the ten-odd items a round's slice holds)
        or ``accuracy`` (the paired accuracy gain). ``test`` rewards the round's gain in
        the server evaluator's held-out accuracy instead, and needs an evaluator; in a
        simulation that is the very test set the benchmark reports, so it is an upper
        bound on what any slice reward can reach, for diagnosis rather than deployment.
    holdout_validation : str
        "yes", "no" or "auto" (held out only when the stopping rule needs it): keep
        the random slice out of training so it measures accuracy without bias.
    server_momentum : float
        Server-side momentum of the aggregation (Flower's ``FedAvgM``); 0 = plain FedAvg.
        It speeds federated training up while labels are few (see
        ``simulations/benchmarks/fed_training.py``).
    server_lr : float
        Server-side step size (Flower's ``FedAvgM`` ``server_learning_rate``): the
        global model moves ``server_lr`` times the averaged update (with momentum). 2
        (default) extrapolates past the devices' average, which makes up for the short
        local training of each wave; measured with ``fed_training``, it adds 1-2 points
        of mean accuracy on MNIST-1D at 10 and 50 clients, alpha 0.1 and 0.5, and costs
        neither digits nor the text set; a step of 3 diverges. 1 = the plain average.
    proximal_mu : float
        FedProx's proximal coefficient for local training (0 = off): it keeps each
        device's update near the global model under label skew.
    dp_noise_multiplier, dp_clipping_norm : float
        Differential privacy for model updates with Flower's own
        ``DifferentialPrivacyServerSideFixedClipping`` wrapper around FedAvg (each update
        clipped to the norm, Gaussian noise of multiplier x norm on the aggregate);
        0 = off.
    mc_passes, mc_dropout : int, float
        Monte-Carlo dropout passes and rate for BALD.
    seed : int
        Seeds model init, node sampling and allocation.
    min_nodes : int
        Devices to wait for before the first round.
    node_wait_s, reply_timeout_s : float
        Bounded waits for devices to appear and to reply.
    """

    num_features: int = 0
    num_classes: int = 0
    rounds: int = 10
    budget: int = 20
    strategy: str = "auto"
    allocation: str = "diversity"
    cold_start_rounds: int = 2
    cold_start_allocation: str = "pool-diversity"
    kcenter_shortlist: int = 0
    large_federation: int = LARGE_FEDERATION
    cold_start_shortlist: int = 0
    kcenter_shortlist_share: float = 0.0
    random_fraction: float = 0.1
    top_k: int = 0
    num_bins: int = 10
    sketch_dim: int = 32
    hidden: list[int] = field(default_factory=lambda: [128])
    train_rounds: int = 5
    warmup_train_rounds: int = 20
    local_epochs: int = 3
    local_min_steps: int = 20
    batch_size: int = 32
    lr: float = 3e-3
    weight_decay: float = 1e-4
    max_per_device: int = 0
    normal_share: float = 0.0
    total_budget: int = 0
    annotators: int = 0
    labels_per_annotator: int = 0
    min_gain_per_100: float = 0.0
    patience: int = 3
    auto_arms: list[str] = field(default_factory=lambda: ["hybrid", "badge"])
    auto_reward: str = "brier"
    holdout_validation: str = "auto"
    server_momentum: float = 0.5
    server_lr: float = 2.0
    proximal_mu: float = 0.1
    dp_noise_multiplier: float = 0.0
    dp_clipping_norm: float = 1.0
    mc_passes: int = 20
    mc_dropout: float = 0.2
    seed: int = 0
    min_nodes: int = 1
    node_wait_s: float = 60.0
    reply_timeout_s: float = 600.0

    def validate(self) -> CampaignConfig:
        """Raise :class:`ConfigError` for the first out-of-range field."""
        from .allocation import MAX_SHORTLIST_FACTOR, available_policies

        policies = available_policies()
        checks = [
            ("allocation", self.allocation in policies, f"must be one of {', '.join(policies)}"),
            ("cold_start_allocation", self.cold_start_allocation in ("", *policies),
             f"must be empty (= allocation) or one of {', '.join(policies)}"),
            ("num_features", 1 <= self.num_features <= 1 << 20, "must be in [1, 1048576] (set it for your data)"),
            ("num_classes", 2 <= self.num_classes <= 1000, "must be in [2, 1000] (set it for your data)"),
            ("rounds", 1 <= self.rounds <= 100_000, "must be in [1, 100000]"),
            ("budget", 0 <= self.budget <= 1_000_000, "must be in [0, 1000000]"),
            ("kcenter_shortlist", 0 <= self.kcenter_shortlist <= MAX_SHORTLIST_FACTOR,
             f"must be 0 (by the federation's size) or in [1, {MAX_SHORTLIST_FACTOR}]"),
            ("large_federation", 1 <= self.large_federation <= 1_000_000, "must be in [1, 1000000]"),
            ("cold_start_shortlist", 0 <= self.cold_start_shortlist <= MAX_SHORTLIST_FACTOR,
             f"must be 0 (= the selection rounds' width) or in [1, {MAX_SHORTLIST_FACTOR}]"),
            ("kcenter_shortlist_share", 0.0 <= self.kcenter_shortlist_share <= 1.0, "must be in [0, 1]"),
            ("random_fraction", 0.0 <= self.random_fraction <= 1.0, "must be in [0, 1]"),
            ("top_k", 0 <= self.top_k <= 4096, "must be in [0, 4096]"),
            ("num_bins", 1 <= self.num_bins <= 256, "must be in [1, 256]"),
            ("sketch_dim", 0 <= self.sketch_dim <= 256, "must be in [0, 256]"),
            ("hidden", bool(self.hidden) and all(1 <= h <= 16384 for h in self.hidden),
             "must be a non-empty list of widths in [1, 16384]"),
            ("train_rounds", 0 <= self.train_rounds <= 1000, "must be in [0, 1000]"),
            ("local_epochs", 0 <= self.local_epochs <= 10_000, "must be in [0, 10000]"),
            ("batch_size", 1 <= self.batch_size <= 65536, "must be in [1, 65536]"),
            ("lr", 0.0 < self.lr <= 10.0, "must be in (0, 10]"),
            ("min_nodes", self.min_nodes >= 1, "must be at least 1"),
            ("max_per_device", self.max_per_device >= 0, "must be >= 0"),
            ("normal_share", 0.0 <= self.normal_share <= 1.0 - self.random_fraction,
             "must be in [0, 1 - random_fraction]"),
            ("total_budget", self.total_budget >= 0, "must be >= 0"),
            ("holdout_validation", self.holdout_validation in ("yes", "no", "auto"), "must be yes, no or auto"),
            ("auto_arms", bool(self.auto_arms), "must name at least one strategy"),
            ("auto_reward", self.auto_reward in AUTO_REWARDS, "must be one of " + ", ".join(AUTO_REWARDS)),
            ("mc_passes", 0 <= self.mc_passes <= 256, "must be in [0, 256]"),
            ("dp_noise_multiplier", self.dp_noise_multiplier >= 0, "must be >= 0"),
            ("server_momentum", 0.0 <= self.server_momentum < 1.0, "must be in [0, 1)"),
            ("server_lr", 0.0 < self.server_lr <= 10.0, "must be in (0, 10]"),
            ("proximal_mu", 0.0 <= self.proximal_mu <= 100.0, "must be in [0, 100]"),
            ("warmup_train_rounds", 0 <= self.warmup_train_rounds <= 1000, "must be in [0, 1000]"),
            ("dp_clipping_norm", self.dp_clipping_norm > 0, "must be > 0"),
            ("mc_dropout", 0.0 <= self.mc_dropout < 0.95, "must be in [0, 0.95)"),
        ]
        for name, ok, limit in checks:
            if not ok:
                raise ConfigError(name, getattr(self, name), limit)
        return self

    @property
    def holds_out_validation(self) -> bool:
        """Whether devices leave the random slice out of training.

        ``auto`` holds it out only for the stopping rule, which needs a fixed held-out
        set; the ``auto`` strategy judges its arms prequentially on each round's fresh
        slice instead (unbiased, and no label is kept from training).
        """
        if self.holdout_validation == "auto":
            return self.min_gain_per_100 > 0
        return self.holdout_validation == "yes"

    def allocation_in(self, rnd: int) -> str:
        """The allocation policy of campaign round ``rnd``."""
        if rnd <= self.cold_start_rounds and self.cold_start_allocation:
            return self.cold_start_allocation
        return self.allocation

    def shortlist_for(self, devices: int) -> int:
        """The selection rounds' k-center shortlist factor in a federation of ``devices`` devices.

        ``kcenter_shortlist`` when set; for 0, 4 below ``large_federation`` devices and 8
        from there up. Every device offers up to a budget's worth of candidates, so the
        offers grow with the devices and a fixed multiple of the budget becomes a thinner
        top slice of the federated model's ranking; the wider shortlist keeps it looser.
        The step and where it sits rest on the stored results at 10 to 50 devices
        (``simulations/benchmarks/FINDINGS.md``).
        """
        if self.kcenter_shortlist:
            return self.kcenter_shortlist
        return LARGE_FEDERATION_SHORTLIST if devices >= self.large_federation else SMALL_FEDERATION_SHORTLIST

    def shortlist_in(self, rnd: int, devices: int) -> int:
        """The k-center shortlist factor of campaign round ``rnd`` in a federation of ``devices`` devices."""
        if rnd <= self.cold_start_rounds and self.cold_start_shortlist:
            return self.cold_start_shortlist
        return self.shortlist_for(devices)

    def waves_in_round(self, rnd: int) -> int:
        """Training waves (Flower FedAvg / FedAvgM rounds) in campaign round ``rnd``."""
        if rnd <= 1 and self.train_rounds > 0 and self.warmup_train_rounds > 0:
            return self.warmup_train_rounds
        return self.train_rounds

    def first_wave(self, rnd: int) -> int:
        """Flower's round number of the first training wave of campaign round ``rnd``."""
        if rnd <= 1:
            return 1
        return 1 + self.waves_in_round(1) + (rnd - 2) * self.train_rounds

    @property
    def candidates_per_device(self) -> int:
        return self.top_k or max(self.budget, 1)

    def to_dict(self) -> dict[str, object]:
        return asdict(self)
