"""A folder of ``.npz`` files keyed by content hashes, written atomically and checksummed."""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import threading
import zipfile
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path
from typing import Generic, TypeVar

import numpy as np
import numpy.typing as npt

__all__ = ["DiskCache", "Recent", "cache_key"]

# Bumped whenever the layout of stored entries changes, so that old files miss.
_FORMAT = "structgen.DiskCache/1"
_CHECKSUM = "__checksum__"


V = TypeVar("V")


class Recent(Generic[V]):
    """The values made last, per key (a vocabulary fingerprint), in this process: at most
    ``kept``, the oldest dropped. Thread-safe; of two values made at once for one key, the
    first kept is the one every caller gets."""

    def __init__(self, kept: int) -> None:
        self._kept = kept
        self._values: OrderedDict[str, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> V | None:
        with self._lock:
            return self._values.get(key)

    def keep(self, key: str, value: V) -> V:
        """Keep ``value`` unless one is kept for ``key`` already; the one kept."""
        with self._lock:
            value = self._values.setdefault(key, value)
            while len(self._values) > self._kept:
                self._values.popitem(last=False)
            return value

    def pop(self, key: str) -> None:
        with self._lock:
            self._values.pop(key, None)


def cache_key(*parts: str | bytes) -> str:
    """sha256 hex over ``parts``, each length-prefixed so that no two splits collide."""
    digest = hashlib.sha256(_FORMAT.encode())
    for part in parts:
        data = part.encode() if isinstance(part, str) else bytes(part)
        digest.update(len(data).to_bytes(8, "little"))
        digest.update(data)
    return digest.hexdigest()


def _checksum(arrays: Mapping[str, npt.NDArray[np.generic]]) -> str:
    digest = hashlib.sha256(_FORMAT.encode())
    for name in sorted(arrays):
        array = np.asarray(arrays[name], order="C")
        digest.update(f"{name}\0{array.dtype.str}\0{array.shape}\0".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


class DiskCache:
    """Named groups of numpy arrays in one folder, one ``<key>.npz`` file per entry.

    Entries are written to a temporary file in the same folder and moved into place with
    ``os.replace``, which is atomic: a reader sees a whole old file, a whole new file or
    none, never a partial one, and two processes that build the same entry at once simply
    both write it (the last move wins; the contents are equal). Every entry carries a
    sha256 of its arrays; a truncated, corrupted or foreign file fails that check on
    :meth:`load`, which then reports a miss so the caller rebuilds and overwrites it.

    Parameters
    ----------
    directory
        Created on first write. Entries are never deleted; remove the folder to clear it.
    """

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)

    def path(self, key: str) -> Path:
        if not key or not all(c in "0123456789abcdef" for c in key):
            raise ValueError(f"cache keys are lowercase hex digests (see cache_key), got {key!r}")
        return self.directory / f"{key}.npz"

    def load(self, key: str) -> dict[str, npt.NDArray[np.generic]] | None:
        """The arrays stored under ``key``, or ``None`` if absent or not intact."""
        path = self.path(key)
        try:
            # Open the file here: np.load leaks its handle when the zip is damaged.
            with open(path, "rb") as handle, np.load(handle, allow_pickle=False) as data:
                arrays = {name: data[name] for name in data.files}
        except FileNotFoundError:
            return None
        except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile):
            return None
        stored = arrays.pop(_CHECKSUM, None)
        if stored is None or stored.dtype.kind != "U" or str(stored) != _checksum(arrays):
            return None
        return arrays

    def store(self, key: str, arrays: Mapping[str, npt.NDArray[np.generic]]) -> Path:
        """Write ``arrays`` under ``key`` atomically; returns the file's path."""
        if _CHECKSUM in arrays:
            raise ValueError(f"{_CHECKSUM!r} is a reserved array name")
        path = self.path(key)
        self.directory.mkdir(parents=True, exist_ok=True)
        payload = {name: np.asarray(a, order="C") for name, a in arrays.items()}
        payload[_CHECKSUM] = np.array(_checksum(payload))
        fd, tmp = tempfile.mkstemp(prefix=f".{key[:16]}.", suffix=".tmp", dir=self.directory)
        try:
            with os.fdopen(fd, "wb") as handle:
                np.savez(handle, **payload)  # type: ignore[arg-type]
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        return path
