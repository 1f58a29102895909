"""A device's data path in every format, and the errors bad files get."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from fedsift.client.datasource import read_pool
from fedsift.client.errors import PoolError

X = np.arange(12, dtype=np.float32).reshape(4, 3) / 7


def write_all(root: Path) -> dict[str, Path]:
    ids = [f"s{i}" for i in range(4)]
    paths = {}
    paths["npz"] = root / "pool.npz"
    np.savez(paths["npz"], x=X, ids=np.array(ids))
    paths["jsonl"] = root / "pool.jsonl"
    paths["jsonl"].write_text("".join(json.dumps({"id": i, "x": r.tolist(), "meta": {"note": f"n{k}"}}) + "\n"
                                      for k, (i, r) in enumerate(zip(ids, X))))
    paths["csv"] = root / "pool.csv"
    paths["csv"].write_text("id,a,b,c,meta.note\n" + "".join(f"{i},{r[0]!r},{r[1]!r},{r[2]!r},n{k}\n"
                                                          for k, (i, r) in enumerate(zip(ids, X.tolist()))))
    paths["sqlite"] = root / "pool.sqlite"
    db = sqlite3.connect(paths["sqlite"])
    db.execute("CREATE TABLE samples (id TEXT PRIMARY KEY, x BLOB, meta TEXT)")
    db.executemany("INSERT INTO samples VALUES (?, ?, ?)", [(i, r.astype("<f4").tobytes(), json.dumps({"note": f"n{k}"}))
                                                             for k, (i, r) in enumerate(zip(ids, X))])
    db.commit()
    db.close()
    folder = root / "files"
    folder.mkdir()
    for k, (i, r) in enumerate(zip(ids, X)):
        np.save(folder / f"{i}.npy", r)
        (folder / f"{i}.json").write_text(json.dumps({"note": f"n{k}"}))
    paths["folder"] = folder
    return paths


@pytest.mark.parametrize("fmt", ["npz", "jsonl", "csv", "sqlite", "folder"])
def test_every_format_reads_the_same_pool(tmp_path: Path, fmt: str) -> None:
    pool = read_pool(write_all(tmp_path)[fmt])
    assert pool.ids == ["s0", "s1", "s2", "s3"]
    assert pool.x.dtype == np.float32 and np.array_equal(pool.x, X)  # bit for bit: the oracle matches on bytes
    if fmt != "npz":
        assert [m["note"] for m in pool.metadata] == ["n0", "n1", "n2", "n3"]


@pytest.mark.parametrize("name, text, problem", [
    ("a.jsonl", '{"id": "a", "x": [1, 2]}\n{"id": "b", "x": [1]}\n', "row 1 has 1 features"),
    ("a.jsonl", '{"id": "a", "x": [1, NaN]}\n', "NaN or infinite"),
    ("a.jsonl", '{"id": "a", "x": [1, 2]}\nnot json\n', "line 2 is not JSON"),
    ("a.jsonl", '{"id": "a", "x": ["1", 2]}\n', "list of numbers"),
    ("a.jsonl", '{"id": "a", "x": [1], "meta": {"k": 3}}\n', "meta must be an object of strings"),
    ("a.jsonl", '{"id": "a", "x": [1]}\n{"id": "a", "x": [2]}\n', "not unique"),
    ("a.jsonl", "", "no samples"),
    ("a.csv", "id,a\nx,1\ny,oops\n", "row 2: a feature is not a number"),
    ("a.csv", "id,a\nx,inf\n", "NaN or infinite"),
    ("a.csv", "id,meta.k\nx,1\n", "no feature columns"),
    ("a.parquet", "", "unknown data format"),
])
def test_malformed_files_are_refused_naming_the_problem(tmp_path: Path, name: str, text: str, problem: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(PoolError, match=problem):
        read_pool(path)


def test_oversized_pools_and_hostile_files_are_refused(tmp_path: Path) -> None:
    paths = write_all(tmp_path)
    with pytest.raises(PoolError, match="more than 2 samples"):
        read_pool(paths["jsonl"], max_rows=2)
    with pytest.raises(PoolError, match="memory limit"):
        read_pool(paths["csv"], max_bytes=20)
    huge = tmp_path / "meta.jsonl"
    huge.write_text(json.dumps({"id": "a", "x": [1.0], "meta": {"k": "v" * 70_000}}) + "\n")
    with pytest.raises(PoolError, match="over 65536 characters"):
        read_pool(huge)
    (tmp_path / "bad.sqlite").write_bytes(b"this is not a database" * 100)
    with pytest.raises(PoolError, match="not a pool database"):
        read_pool(tmp_path / "bad.sqlite")
    db = sqlite3.connect(tmp_path / "wrong.db")
    db.execute("CREATE TABLE other (a)")
    db.close()
    with pytest.raises(PoolError, match="samples"):
        read_pool(tmp_path / "wrong.db")
    pickled = tmp_path / "pickled"
    pickled.mkdir()
    np.save(pickled / "a.npy", np.array([{"x": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(PoolError, match="not a .npy array"):
        read_pool(pickled)  # object arrays would need pickle: never loaded
    with pytest.raises(PoolError, match="no such file"):
        read_pool(tmp_path / "missing.csv")


def test_a_compressed_npz_over_the_limit_is_refused_before_it_is_unpacked(tmp_path: Path) -> None:
    path = tmp_path / "bomb.npz"
    np.savez_compressed(path, x=np.zeros((200_000, 64), dtype=np.float32))  # 51 MB of zeros, a few KB packed
    assert path.stat().st_size < 1_000_000
    with pytest.raises(PoolError, match="memory limit"):
        read_pool(path, max_bytes=1 << 20)
    odd = tmp_path / "a?b#c"
    odd.mkdir()
    sq = write_all(odd)["sqlite"]
    assert read_pool(sq).ids == ["s0", "s1", "s2", "s3"]  # a path with URI characters still opens
