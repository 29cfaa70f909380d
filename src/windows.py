"""Sliding windows over per-unit arrays, produced by index and gathered per batch.

A window is `win_len` consecutive rows of one unit (after keeping every
`downsample`-th row); its label is the RUL at its last row. Windows never cross a
unit boundary and are never materialised all at once: the dataset stores one end
position per window and gathers whole batches with one fancy index per unit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

LAYOUTS = ("cnn", "lstm")


class UnitArrays(Protocol):
    """What a window dataset needs of a unit (see `src.data_loader.UnitRecord`)."""

    unit: int
    features: np.ndarray
    rul: np.ndarray
    cycle: np.ndarray


class WindowDataset(Dataset):
    """Windows of `win_len` rows over the given units, in unit order.

    Indexing with an int returns one window; with a sequence, array, tensor or slice
    of ints it returns a whole batch, gathered without Python per-window loops.

    Shapes:
        layout "cnn": x (B, 1, win_len, m); layout "lstm": x (B, win_len, m);
        y (B,) float32 RUL at each window's last row. An int index drops the B axis.

    Args:
        units: Unit records with features (rows, m) float32, rul (rows,), cycle.
        win_len: Rows per window (after downsampling).
        stride: Step between the last rows of consecutive windows.
        downsample: Keep every k-th row of each unit before windowing.
        layout: "cnn" or "lstm".
        last_only: Only the last window of each unit (test protocol of C-MAPSS).
        rul_cap: Cap labels at this many cycles (piecewise-linear target), or None.

    Raises:
        ValueError: For a unit shorter than one window, or bad arguments.
    """

    def __init__(
        self,
        units: Sequence[UnitArrays],
        win_len: int,
        stride: int = 1,
        downsample: int = 1,
        layout: str = "cnn",
        last_only: bool = False,
        rul_cap: float | None = None,
    ) -> None:
        _check_arguments(units, win_len, stride, downsample, layout)
        if rul_cap is not None and not rul_cap >= 0:
            raise ValueError(f"rul_cap must be a number >= 0 or None, got {rul_cap!r}")
        # Plain ints: numpy ones would reach the temporal CNN's size check and the
        # checkpoint, which weights_only loading refuses to read back.
        win_len, stride, downsample = int(win_len), int(stride), int(downsample)
        self.win_len, self.stride, self.downsample = win_len, stride, downsample
        self.layout, self.rul_cap = layout, rul_cap
        self.unit_ids = [int(unit.unit) for unit in units]
        self._features = [unit.features[::downsample] for unit in units]
        self._labels = [unit.rul[::downsample] for unit in units]
        ends = [
            _window_ends(unit, win_len, stride, downsample, last_only) for unit in units
        ]
        self._counts = np.array([len(e) for e in ends], dtype=np.int64)
        self._first = np.concatenate([[0], np.cumsum(self._counts)[:-1]])
        self._ends = np.concatenate(ends) if ends else np.empty(0, dtype=np.int64)
        self._offsets = np.arange(1 - win_len, 1, dtype=np.int64)
        self.window_unit = np.repeat(self.unit_ids, self._counts).astype(np.int64)
        # Row of each window's last sample in the unit's full-resolution arrays.
        self.window_row = self._ends * downsample
        self.window_cycle = _window_values([u.cycle for u in units], self)

    @property
    def n_features(self) -> int:
        return self._features[0].shape[1]

    def __len__(self) -> int:
        return len(self._ends)

    def __getitem__(self, index) -> tuple[torch.Tensor, torch.Tensor]:
        if isinstance(index, slice):
            index = range(*index.indices(len(self)))
        index = _integer_index(index)
        if index.ndim == 0:
            x, y = self._gather(index.reshape(1))
            return x[0], y[0]
        x, y = self._gather(index)

        return x, y

    def labels(self) -> np.ndarray:
        """Label of every window, in dataset order, (n,) float32."""
        return _window_values(self._labels_capped(), self, downsampled=True)

    def loader(
        self,
        batch_size: int,
        shuffle: bool = False,
        seed: int = 0,
        epoch: int = 0,
        start_batch: int = 0,
    ) -> DataLoader:
        """Batches in a reproducible order: shuffled by (seed, epoch) if asked.

        `start_batch` skips the batches already seen, for resuming mid-epoch.
        """
        order = np.arange(len(self))
        if shuffle:
            generator = torch.Generator().manual_seed(seed * 100_003 + epoch)
            order = torch.randperm(len(self), generator=generator).numpy()
        batches = _Batches(order[start_batch * batch_size :], batch_size)

        # Its own generator: iterating must not draw from torch's global RNG, which
        # dropout uses (a resumed run would otherwise diverge).
        return DataLoader(
            self, sampler=batches, batch_size=None, generator=torch.Generator()
        )

    def _gather(self, index: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        if index.size and (index.min() < -len(self) or index.max() >= len(self)):
            raise IndexError(f"window index out of range for {len(self)} windows")
        index = index % max(len(self), 1)
        position = np.searchsorted(self._first, index, side="right") - 1
        ends = self._ends[index]
        x = np.empty((len(index), self.win_len, self.n_features), dtype=np.float32)
        y = np.empty(len(index), dtype=np.float32)
        for position_value in np.unique(position):
            chosen = position == position_value
            rows = ends[chosen, None] + self._offsets  # (b, win_len)
            x[chosen] = self._features[position_value][rows]
            y[chosen] = self._labels[position_value][ends[chosen]]
        if self.rul_cap is not None:
            np.minimum(y, self.rul_cap, out=y)
        x_tensor = torch.from_numpy(x)
        if self.layout == "cnn":
            x_tensor = x_tensor.unsqueeze(1)  # (B, 1, win_len, m)

        return x_tensor, torch.from_numpy(y)

    def _labels_capped(self) -> list[np.ndarray]:
        if self.rul_cap is None:
            return self._labels
        return [np.minimum(labels, self.rul_cap) for labels in self._labels]


class _Batches(Sampler):
    """Consecutive slices of an index order, one array per batch."""

    def __init__(self, order: np.ndarray, batch_size: int) -> None:
        self.order, self.batch_size = order, batch_size

    def __len__(self) -> int:
        return -(-len(self.order) // self.batch_size)

    def __iter__(self):
        for start in range(0, len(self.order), self.batch_size):
            yield self.order[start : start + self.batch_size]


def _integer_index(index) -> np.ndarray:
    """`index` as int64 positions; refuses masks and fractions (read as 0/1, floor)."""
    if isinstance(index, torch.Tensor):
        index = index.cpu().numpy()
    values = np.asarray(index)
    empty_list = values.size == 0 and values.dtype.kind == "f"  # np.asarray([])
    if values.dtype.kind not in "iu" and not empty_list:
        raise TypeError(
            f"window index must be an int, a slice or a sequence of ints, got "
            f"{values.dtype} {values.tolist() if values.size < 6 else '...'}"
        )

    return values.astype(np.int64)


def _check_arguments(units, win_len, stride, downsample, layout) -> None:
    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}; expected one of {LAYOUTS}")
    for name, value in (
        ("win_len", win_len),
        ("stride", stride),
        ("downsample", downsample),
    ):
        is_integer = isinstance(value, (int, np.integer)) and not isinstance(
            value, bool
        )
        if not is_integer or value < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    if not units:
        raise ValueError("no units given to build windows from")
    widths = {unit.features.shape[1] for unit in units}
    if len(widths) != 1:
        raise ValueError(f"units have different feature counts {sorted(widths)}")


def _window_ends(
    unit: UnitArrays, win_len: int, stride: int, downsample: int, last_only: bool
) -> np.ndarray:
    rows = len(unit.features[::downsample])
    if rows < win_len:
        raise ValueError(
            f"unit {unit.unit} has {rows} rows (of {len(unit.features)}, keeping "
            f"every {downsample}) but a window needs win_len={win_len} rows"
        )
    if last_only:
        return np.array([rows - 1], dtype=np.int64)

    return np.arange(win_len - 1, rows, stride, dtype=np.int64)


def _window_values(
    per_unit: list[np.ndarray], dataset: WindowDataset, downsampled: bool = False
) -> np.ndarray:
    """One value per window: each unit's array at the window's last row."""
    rows = dataset._ends if downsampled else dataset.window_row
    # Windows are stored unit after unit, so each unit's rows are one slice.
    bounds = zip(dataset._first, dataset._counts, strict=True)
    values = [
        unit_values[rows[first : first + count]]
        for unit_values, (first, count) in zip(per_unit, bounds, strict=True)
    ]

    return np.concatenate(values) if values else np.empty(0)
