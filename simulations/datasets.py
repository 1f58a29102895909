"""Datasets that need no download: scikit-learn's digits and MNIST-1D generated locally."""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass

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


_LOADERS = {"digits": _digits, "mnist1d": _mnist1d}


@functools.lru_cache(maxsize=4)
def load_dataset(name: str) -> Dataset:
    """Load a dataset by name (cached per process).

    Parameters
    ----------
    name : str
        ``"digits"`` or ``"mnist1d"``.

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
