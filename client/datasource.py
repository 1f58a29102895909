"""Read a device's local pool from its data path: a folder of files, JSONL, CSV or SQLite.

The format follows the path:

- ``*.npz``: arrays ``x`` (n, d) and optionally ``ids`` (n,);
- ``*.jsonl``: one object per line, ``{"id": str, "x": [float, ...], "meta": {str: str}}``
  (``meta`` optional);
- ``*.csv``: a header; column ``id`` (optional), columns named ``meta.<field>`` become
  metadata, every other column is a numeric feature;
- ``*.sqlite`` / ``*.db``: table ``samples(id TEXT PRIMARY KEY, x BLOB, meta TEXT)``, ``x``
  as little-endian float32 bytes, ``meta`` a JSON object or NULL;
- a folder: one ``<id>.npy`` per sample (a 1-D float vector), with an optional
  ``<id>.json`` metadata object beside it.

Every reader checks what it reads (row widths agree, numbers are finite, ids are unique,
metadata values are strings, the pool stays under ``max_rows`` and ``max_bytes``) and
raises :class:`PoolError` naming the file, the row and the problem.
"""

from __future__ import annotations

import csv
import json
import math
import sqlite3
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from flwr.app import Context

from .errors import PoolError
from .pool import LocalPool

MAX_ROWS = 1_000_000
MAX_BYTES = 2 << 30  # features in memory, float32
MAX_META_CHARS = 64 * 1024


def _meta(path: Path, row: int, value: object) -> dict[str, str]:
    if value is None:
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise PoolError(f"{path}: row {row}: meta is not JSON: {exc}") from exc
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise PoolError(f"{path}: row {row}: meta must be an object of strings")
    if sum(len(k) + len(v) for k, v in value.items()) > MAX_META_CHARS:
        raise PoolError(f"{path}: row {row}: meta is over {MAX_META_CHARS} characters")
    return dict(value)


def _finish(path: Path, ids: list[str], rows: list[np.ndarray], metas: list[dict[str, str]]) -> LocalPool:
    if not rows:
        raise PoolError(f"{path}: no samples")
    widths = {r.shape[0] for r in rows}
    if len(widths) != 1:
        bad = next(i for i, r in enumerate(rows) if r.shape[0] != rows[0].shape[0])
        raise PoolError(f"{path}: row {bad} has {rows[bad].shape[0]} features; row 0 has {rows[0].shape[0]}")
    x = np.stack(rows).astype(np.float32)
    if not np.isfinite(x).all():
        bad = int(np.flatnonzero(~np.isfinite(x).all(axis=1))[0])
        raise PoolError(f"{path}: row {bad} has a NaN or infinite feature")
    if len(set(ids)) != len(ids):
        raise PoolError(f"{path}: sample ids are not unique")
    return LocalPool(ids=ids, x=x, metadata=metas if any(metas) else [])


def _check_size(path: Path, n: int, width: int, limits: tuple[int, int]) -> None:
    max_rows, max_bytes = limits
    if n > max_rows:
        raise PoolError(f"{path}: more than {max_rows} samples (the device's max_rows)")
    if n * width * 4 > max_bytes:
        raise PoolError(f"{path}: {n} x {width} features exceed the device's memory limit of {max_bytes} bytes")


def read_jsonl(path: Path, limits: tuple[int, int] = (MAX_ROWS, MAX_BYTES)) -> LocalPool:
    ids, rows, metas = [], [], []
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise PoolError(f"{path}: line {n + 1} is not JSON: {exc}") from exc
            if not isinstance(obj, dict) or "x" not in obj:
                raise PoolError(f"{path}: line {n + 1}: expected an object with 'x'")
            x = obj["x"]
            if not isinstance(x, list) or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in x):
                raise PoolError(f"{path}: line {n + 1}: 'x' must be a list of numbers")
            ids.append(str(obj.get("id", len(ids))))
            rows.append(np.asarray(x, dtype=np.float64))
            metas.append(_meta(path, n + 1, obj.get("meta")))
            _check_size(path, len(rows), len(x), limits)
    return _finish(path, ids, rows, metas)


def read_csv(path: Path, limits: tuple[int, int] = (MAX_ROWS, MAX_BYTES)) -> LocalPool:
    ids, rows, metas = [], [], []
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        fields = reader.fieldnames or []
        features = [f for f in fields if f != "id" and not f.startswith("meta.")]
        if not features:
            raise PoolError(f"{path}: no feature columns in the header")
        for n, rec in enumerate(reader):
            try:
                row = [float(rec[f]) for f in features]
            except (TypeError, ValueError) as exc:
                raise PoolError(f"{path}: row {n + 1}: a feature is not a number ({exc})") from exc
            if any(math.isnan(v) or math.isinf(v) for v in row):
                raise PoolError(f"{path}: row {n + 1} has a NaN or infinite feature")
            ids.append(str(rec["id"]) if "id" in rec and rec["id"] is not None else str(n))
            rows.append(np.asarray(row))
            metas.append({f[5:]: rec[f] or "" for f in fields if f.startswith("meta.")})
            _check_size(path, len(rows), len(features), limits)
    return _finish(path, ids, rows, metas)


def read_sqlite(path: Path, limits: tuple[int, int] = (MAX_ROWS, MAX_BYTES)) -> LocalPool:
    try:
        db = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)
        try:
            cur = db.execute("SELECT id, x, meta FROM samples ORDER BY rowid")
            ids, rows, metas = [], [], []
            for n, (sid, blob, meta) in enumerate(cur):
                if not isinstance(blob, bytes) or len(blob) % 4:
                    raise PoolError(f"{path}: row {n + 1}: x must be float32 bytes")
                ids.append(str(sid))
                rows.append(np.frombuffer(blob, dtype="<f4").astype(np.float64))
                metas.append(_meta(path, n + 1, meta))
                _check_size(path, len(rows), rows[-1].shape[0], limits)
        finally:
            db.close()
    except sqlite3.DatabaseError as exc:
        raise PoolError(f"{path}: not a pool database with table samples(id, x, meta): {exc}") from exc
    return _finish(path, ids, rows, metas)


def read_folder(path: Path, limits: tuple[int, int] = (MAX_ROWS, MAX_BYTES)) -> LocalPool:
    ids, rows, metas = [], [], []
    for file in sorted(path.glob("*.npy")):
        try:
            x = np.load(file, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise PoolError(f"{file}: not a .npy array: {exc}") from exc
        if x.ndim != 1 or not np.issubdtype(x.dtype, np.number):
            raise PoolError(f"{file}: expected a 1-D numeric vector, got shape {x.shape} {x.dtype}")
        side = file.with_suffix(".json")
        meta = _meta(side, 1, side.read_text(encoding="utf-8")) if side.exists() else {}
        ids.append(file.stem)
        rows.append(x.astype(np.float64))
        metas.append(meta)
        _check_size(path, len(rows), x.shape[0], limits)
    return _finish(path, ids, rows, metas)


def _npz_shape(path: Path, member: str) -> tuple[int, ...]:
    """The shape of ``member`` read from its .npy header, before anything is decompressed."""
    with zipfile.ZipFile(path) as zf, zf.open(f"{member}.npy") as fh:
        version = np.lib.format.read_magic(fh)
        shape, _, _ = (np.lib.format.read_array_header_1_0(fh) if version == (1, 0)
                       else np.lib.format.read_array_header_2_0(fh))
    return tuple(shape)


def read_npz(path: Path, limits: tuple[int, int] = (MAX_ROWS, MAX_BYTES)) -> LocalPool:
    try:
        shape = _npz_shape(path, "x")
        if len(shape) == 2:  # refuse a pool over the limits before decompressing it
            _check_size(path, shape[0], shape[1], limits)
        with np.load(path, allow_pickle=False) as data:
            x = np.asarray(data["x"], dtype=np.float32)
            ids = [str(v) for v in data["ids"]] if "ids" in data else [str(i) for i in range(x.shape[0])]
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise PoolError(f"cannot read pool file {path}: {exc}") from exc
    if x.ndim != 2:
        raise PoolError(f"{path}: 'x' must be 2-D, got shape {x.shape}")
    _check_size(path, x.shape[0], x.shape[1], limits)
    return _finish(path, ids, list(x.astype(np.float64)), [{} for _ in ids])


READERS = {".npz": read_npz, ".jsonl": read_jsonl, ".csv": read_csv, ".sqlite": read_sqlite, ".db": read_sqlite}


def read_pool(path: str | Path, max_rows: int = MAX_ROWS, max_bytes: int = MAX_BYTES) -> LocalPool:
    """Read a pool from ``path`` in the format its suffix (or being a folder) names.

    Parameters
    ----------
    path : str or Path
        The device's data path.
    max_rows, max_bytes : int
        Limits on samples and feature bytes; a larger pool is refused, naming the limit.

    Returns
    -------
    LocalPool
    """
    p = Path(path)
    if p.is_dir():
        return read_folder(p, (max_rows, max_bytes))
    reader = READERS.get(p.suffix.lower())
    if reader is None:
        raise PoolError(f"{p}: unknown data format {p.suffix!r}; use a folder of .npy files, "
                        f"or one of {', '.join(sorted(READERS))}")
    if not p.exists():
        raise PoolError(f"{p}: no such file")
    return reader(p, (max_rows, max_bytes))


@dataclass(frozen=True)
class DataPathLoader:
    """Pool loader for deployment: ``node_config['data-path']`` in any format of :func:`read_pool`.

    ``node_config['max-memory-mb']`` (optional) caps the features held in memory.
    """

    key: str = "data-path"

    def __call__(self, context: Context) -> LocalPool:
        cfg = context.node_config
        if self.key not in cfg:
            raise PoolError(f"node config has no '{self.key}': start the SuperNode with "
                            f"--node-config \"{self.key}=/path/to/data\" (or use `fedsift client run`)")
        mb = float(cfg.get("max-memory-mb", 0) or 0)
        return read_pool(str(cfg[self.key]), max_bytes=int(mb * (1 << 20)) if mb > 0 else MAX_BYTES)
