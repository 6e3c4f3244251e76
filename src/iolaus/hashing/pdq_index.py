"""Temporary exact PDQ index over FAISS's flat binary scan (replaced by the MIH index)."""

from __future__ import annotations

import json
from pathlib import Path

import faiss
import numpy as np


class PdqIndex:
    def __init__(self) -> None:
        self._index = faiss.IndexBinaryIDMap2(faiss.IndexBinaryFlat(256))

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def add(self, ids: np.ndarray, hashes: np.ndarray) -> None:
        self._index.remove_ids(ids)
        self._index.add_with_ids(np.ascontiguousarray(hashes), ids)

    def delete(self, ids: np.ndarray) -> None:
        self._index.remove_ids(ids)

    def search(self, queries: np.ndarray, radius: int) -> list[list[tuple[int, int]]]:
        if len(queries) == 0 or self._index.ntotal == 0:
            return [[] for _ in range(len(queries))]
        lims, distances, labels = self._index.range_search(
            np.ascontiguousarray(queries), radius + 1
        )
        return [
            [(int(labels[j]), int(distances[j])) for j in range(lims[i], lims[i + 1])]
            for i in range(len(queries))
        ]

    @staticmethod
    def exists(directory: Path) -> bool:
        return (directory / "manifest.json").is_file()

    @classmethod
    def load(cls, directory: Path) -> tuple[PdqIndex, int]:
        index = cls()
        index._index = faiss.read_index_binary(str(directory / "pdq.faiss"))
        manifest = json.loads((directory / "manifest.json").read_text())
        return index, int(manifest["checkpoint"])

    def save(self, directory: Path, checkpoint: int) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        faiss.write_index_binary(self._index, str(directory / "pdq.faiss"))
        (directory / "manifest.json").write_text(json.dumps({"checkpoint": checkpoint}))
