"""One training loop for every model: Adam on MSE, atomic checkpoints, exact resume.

`fit_or_load()` is the entry point and honours LOAD_MODEL: it uses a finished
checkpoint, resumes a partial one, or trains from scratch; models are built by name
through `MODEL_BUILDERS`. `train_model()` runs the epochs and `predict()` is the one
inference loop. Progress: a tqdm bar per epoch and one summary line per epoch.
"""

from __future__ import annotations

import logging
import math
import random
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from src.checkpoint import (
    REMEDY,
    CheckpointMismatch,
    build_checkpoint,
    check_compatible,
    load_checkpoint,
    restore_rng_states,
    save_checkpoint,
)
from src.cmapss import ConditionScalerStats
from src.cnn_net import build_cnn
from src.data_loader import ScalerStats
from src.lstm import LSTMRegressor
from src.metrics import rmse

logger = logging.getLogger(__name__)

MODEL_BUILDERS = {"cnn": build_cnn, "lstm": LSTMRegressor}
# Window layout each architecture reads: (B, 1, L, m) for "cnn", (B, L, m) for "lstm".
MODEL_LAYOUTS = {"cnn": "cnn", "lstm": "lstm"}
# Settings that may change between a run and its resumption without a warning.
# cnn_arch: the CNN's model_args already refuse another design; the LSTM ignores it.
RESUMABLE_CHANGES = frozenset(
    {"epochs", "load_model", "device", "profile", "autosave_every"}
    # Compared through the model's arguments, where they belong to its design.
    | {"cnn_arch", "cnn_activation", "lstm_hidden_size", "lstm_layers", "lstm_dropout"}
    # Compared through the checkpoint's feature names, windows, training units
    # and scaler statistics (`check_compatible`), whatever spelling chose them.
    | {"features", "win_len", "downsample", "rul_cap", "scale_per_condition"}
    | {"cmapss_official_sizes"}
    | {"val_units", "val_fraction"}
    | {"checkpoint_path", "results_dir", "reports_dir"}
)
# Where the data and files live: moving them changes no model (the data
# themselves are compared through the training units and scaler statistics).
DATA_LOCATION = frozenset({"dataset", "filename", "cmapss_dir"})
# Fields added after checkpoints were first written, at the values that reproduce
# the runs that wrote those older checkpoints (one CNN design, no rate drop).
LEGACY_MODEL_ARGS = {"cnn": {"arch": "original", "activation": "leaky_relu"}}
LEGACY_CONFIG = {
    "select_best": False,  # before SELECT_BEST, the last epoch was kept
    "cnn_arch": "original",
    "cnn_activation": "leaky_relu",
    "lr_drop_epoch": 0,
    "lr_drop_factor": 0.1,
}


class TrainingInterrupted(RuntimeError):  # noqa: N818 (public name, used as is)
    """A run stopped by `stop_after_batches`, as if killed after that batch."""


@dataclass
class History:
    """Per-epoch results of a run, resumed runs included.

    Attributes:
        train_loss: Mean squared error over the epoch's training windows (cycles^2).
        val_rmse: RMSE over every validation window after the epoch (cycles), None
            for every epoch when the run has no validation units.
        epoch_seconds: Wall time of each epoch including validation.
        selected_epoch: 1-based epoch whose weights the model keeps: the lowest
            validation RMSE (`select_best`), else the last epoch.
    """

    train_loss: list[float] = field(default_factory=list)
    val_rmse: list[float | None] = field(default_factory=list)
    epoch_seconds: list[float] = field(default_factory=list)
    selected_epoch: int | None = None

    @property
    def epochs(self) -> int:
        return len(self.train_loss)

    def to_dict(self) -> dict[str, list]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> History:
        lists = ("train_loss", "val_rmse", "epoch_seconds")

        return cls(
            **{key: list(values[key]) for key in lists},
            selected_epoch=values.get("selected_epoch"),
        )


class LoadedModel(NamedTuple):
    """A checkpoint's model ready for inference, with what its inputs must match.

    Attributes:
        model: The network in eval mode.
        model_name: Architecture ("cnn" or "lstm").
        scaler: Z-score statistics of the training units; scale new data with them.
        feature_names: Input features, in column order.
        win_len: Window length in rows.
        layout: Window layout the model reads ("cnn" or "lstm").
        history: Per-epoch history of the run that made the checkpoint.
        config: The run's resolved config, as a dict.
    """

    model: nn.Module
    model_name: str
    scaler: ScalerStats | ConditionScalerStats
    feature_names: list[str]
    win_len: int
    layout: str
    history: History
    config: dict[str, Any]


def pick_device(name: str = "auto") -> torch.device:
    """The torch device for `name`; "auto" picks cuda, then mps, then cpu."""
    if name != "auto":
        return torch.device(name)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")

    return torch.device("cpu")


def seed_everything(seed: int) -> None:
    """Seed python's, numpy's and torch's global RNGs (all devices) with `seed`."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


class LabelScaled(nn.Module):
    """A network trained on standardised labels, answering in cycles.

    y = label_mean + label_std * net(x): the network's output is in units of the
    training labels' standard deviation, so a network initialised near zero starts
    at the mean RUL and Adam's steps have the same meaning for any RUL range. The
    two statistics come from the training windows and live in the state dict.
    """

    def __init__(self, net: nn.Module, label_mean: float, label_std: float) -> None:
        super().__init__()
        if not label_std > 0:
            raise ValueError(f"label_std must be > 0, got {label_std}")
        self.net = net
        self.register_buffer("label_mean", torch.tensor(float(label_mean)))
        self.register_buffer("label_std", torch.tensor(float(label_std)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.label_mean + self.label_std * self.net(x)


def build_model(model_name: str, model_args: dict[str, Any]) -> nn.Module:
    """Construct a registered architecture from its constructor arguments.

    `label_mean` and `label_std`, when present, wrap the network in `LabelScaled`.

    Raises:
        ValueError: For a name not in `MODEL_BUILDERS`.
    """
    if model_name not in MODEL_BUILDERS:
        raise ValueError(
            f"unknown model {model_name!r}; expected one of {list(MODEL_BUILDERS)}"
        )
    args = dict(model_args)
    label_mean, label_std = args.pop("label_mean", None), args.pop("label_std", None)
    net = MODEL_BUILDERS[model_name](**args)
    if label_mean is None:
        return net

    return LabelScaled(net, label_mean, label_std)


def label_statistics(splits) -> dict[str, float]:
    """Mean and standard deviation of the training windows' labels (cycles)."""
    labels = splits.train.labels().astype(np.float64)

    return {"label_mean": float(labels.mean()), "label_std": float(labels.std() or 1.0)}


def cnn_design_args(splits, config) -> dict[str, Any]:
    """`build_cnn` arguments of the configured design (custom layers)."""
    args = {
        "native": False,
        "arch": config.cnn_arch,
        "activation": config.cnn_activation,
    }
    if config.cnn_arch == "original":
        return args  # any window size: global average pooling removes it

    return {
        **args,
        "window_length": splits.train.win_len,
        "n_features": splits.train.n_features,
    }


def default_model_args(model_name: str, splits, config) -> dict[str, Any]:
    """Constructor arguments of `model_name` for these splits and this config.

    Both architectures answer through `LabelScaled` with the training label
    statistics.
    """
    if model_name == "cnn":
        return {**cnn_design_args(splits, config), **label_statistics(splits)}
    if model_name == "lstm":
        return {
            "n_features": splits.train.n_features,
            "hidden_size": config.lstm_hidden_size,
            "num_layers": config.lstm_layers,
            "dropout": config.lstm_dropout,
            **label_statistics(splits),
        }
    raise ValueError(
        f"unknown model {model_name!r}; expected one of {list(MODEL_BUILDERS)}"
    )


def fit_or_load(
    model_name: str,
    splits,
    config,
    checkpoint_path: str | Path | None = None,
    *,
    model_args: dict[str, Any] | None = None,
    progress: bool = True,
    stop_after_batches: int | None = None,
) -> tuple[nn.Module, History]:
    """Train `model_name`, resume it, or reuse a finished checkpoint (LOAD_MODEL).

    With `config.load_model` and an existing checkpoint: a checkpoint that does not
    match (architecture, arguments, features, window length, downsample, RUL cap,
    training units, scaler statistics) is refused; one with at least
    `config.epochs` epochs is used without training; a partial one is resumed
    exactly where it stopped. Otherwise the model is trained from scratch (seeded
    by `config.seed`), overwriting the checkpoint.

    Args:
        model_name: "cnn" or "lstm".
        splits: `DataSplits` whose layout matches the model.
        config: Resolved `config.Config`.
        checkpoint_path: Checkpoint file; `config.checkpoint_file(model_name)` when
            None.
        model_args: Constructor arguments; `default_model_args` when None.
        progress: Show tqdm bars and per-epoch lines.
        stop_after_batches: Simulate a kill after this many batches (tests).

    Returns:
        (model in eval mode on the configured device, full history).

    Raises:
        CheckpointMismatch, CheckpointError: For a checkpoint that cannot be reused.
        TrainingInterrupted: When `stop_after_batches` is reached.
    """
    path = Path(checkpoint_path or config.checkpoint_file(model_name))
    if model_args is None:
        model_args = default_model_args(model_name, splits, config)
    _check_layout(model_name, splits)
    checkpoint = _reusable_checkpoint(path, model_name, model_args, splits, config)
    seed_everything(config.seed)
    model = build_model(model_name, model_args).to(pick_device(config.device))

    if checkpoint is not None and checkpoint["epoch"] >= config.epochs:
        model.load_state_dict(selected_state(checkpoint))
        logger.info("using finished checkpoint %s, no training", path)
        return model.eval(), History.from_dict(checkpoint["history"])

    history = train_model(
        model,
        splits,
        config,
        path,
        model_name=model_name,
        model_args=model_args,
        resume=checkpoint,
        progress=progress,
        stop_after_batches=stop_after_batches,
    )

    return model.eval(), history


def _check_layout(model_name: str, splits) -> None:
    expected = MODEL_LAYOUTS.get(model_name)
    if expected is not None and splits.train.layout != expected:
        raise ValueError(
            f"model {model_name!r} reads layout {expected!r} windows, but the splits "
            f"have layout {splits.train.layout!r}; pass layout={expected!r} to "
            "create_training_and_testing_sets"
        )


def _reusable_checkpoint(
    path: Path, model_name: str, model_args: dict, splits, config
) -> dict[str, Any] | None:
    if not config.load_model or not path.exists():
        return None
    checkpoint = load_upgraded_checkpoint(path)
    check_compatible(
        checkpoint,
        model_name,
        model_args,
        splits.feature_names,
        splits.train.win_len,
        train_units=splits.train_units,
        windows={
            "downsample": splits.train.downsample,
            "rul_cap": splits.train.rul_cap,
        },
        scaler=splits.scaler.to_dict(),
        source=f"checkpoint {path}",
    )
    if checkpoint["epoch"] < config.epochs:
        _warn_changed_settings(checkpoint["config"], config.to_dict(), path)
    else:
        _refuse_changed_settings(checkpoint, config, path)

    return checkpoint


def load_upgraded_checkpoint(path: str | Path) -> dict[str, Any]:
    """`load_checkpoint`, with fields older checkpoints lack set as those runs had them.

    A CNN checkpoint without `arch` in its model_args predates CNN_ARCH and holds
    the original design; a config without the rate-drop fields never dropped it.
    """
    checkpoint = load_checkpoint(path)
    legacy_args = LEGACY_MODEL_ARGS.get(checkpoint["model_name"], {})

    return {
        **checkpoint,
        "model_args": {**legacy_args, **checkpoint["model_args"]},
        "config": {**LEGACY_CONFIG, **checkpoint["config"]},
    }


def _changed_settings(saved: dict, current: dict) -> list[str]:
    ignored = set(RESUMABLE_CHANGES)
    if saved.get("lr_drop_epoch") == current.get("lr_drop_epoch") == 0:
        ignored.add("lr_drop_factor")  # the rate never drops

    return [
        f"{key}: {saved.get(key)!r} -> {value!r}"
        for key, value in current.items()
        if key not in ignored and saved.get(key) != value
    ]


def _warn_changed_settings(saved: dict, current: dict, path: Path) -> None:
    changed = _changed_settings(saved, current)
    if changed:
        warnings.warn(
            f"resuming {path} with settings that differ from the run that wrote it "
            f"({'; '.join(changed)}); the result will not equal an uninterrupted run",
            stacklevel=4,  # the caller of fit_or_load
        )


def _refuse_changed_settings(checkpoint: dict, config, path: Path) -> None:
    """A finished checkpoint stands for this run only if trained as it asks.

    Settings of the same name are compared (not where the data live); one trained
    for more epochs than asked may have selected an epoch past the end.
    """
    saved = {
        key: value
        for key, value in checkpoint["config"].items()
        if key not in DATA_LOCATION
    }
    current = {key: value for key, value in config.to_dict().items() if key in saved}
    changed = _changed_settings(saved, current)
    if checkpoint["epoch"] > config.epochs:
        changed.append(f"epochs: {checkpoint['epoch']} trained -> {config.epochs}")
    if changed:
        listed = "\n".join(f"  - {difference}" for difference in changed)
        raise CheckpointMismatch(
            f"finished checkpoint {path} was trained with other settings than "
            f"this run asks for (checkpoint -> run):\n{listed}\n"
            f"Restore them to reuse it. {REMEDY}"
        )


def train_model(
    model: nn.Module,
    splits,
    config,
    checkpoint_path: str | Path,
    *,
    model_name: str,
    model_args: dict[str, Any] | None = None,
    resume: dict[str, Any] | None = None,
    progress: bool = True,
    stop_after_batches: int | None = None,
) -> History:
    """Train with Adam on MSE, validate and save a checkpoint after every epoch.

    Each epoch shuffles the training windows by (config.seed, epoch) and runs at
    most `config.max_train_batches` batches (0 = all). A checkpoint is also saved
    every `config.autosave_every` batches within an epoch (0 = only at epoch ends).
    The caller seeds the RNGs (see `seed_everything`); a resumed run restores them.

    Args:
        model: Network mapping a batch of windows to (B, 1) RUL; moved to the
            configured device.
        splits: `DataSplits`; trains on `splits.train`, validates on `splits.val`.
        config: Resolved `config.Config`.
        checkpoint_path: File the checkpoints are written to (atomically).
        model_name: Registered architecture name, stored in the checkpoint.
        model_args: Constructor arguments stored in the checkpoint; taken from
            `model.constructor_args` or `default_model_args` when None.
        resume: A checkpoint from `load_checkpoint` to continue from, checked by
            the caller with `check_compatible`; None trains from the start.
        progress: Show a tqdm bar per epoch; the per-epoch line then goes through
            `tqdm.write`, otherwise through `logging` (INFO).
        stop_after_batches: Raise `TrainingInterrupted` once this many batches ran
            in this call, after that batch's autosave (simulates a kill in tests).

    Returns:
        History of every epoch, those before `resume` included.
    """
    if model_args is None:
        model_args = getattr(model, "constructor_args", None)
    if model_args is None:
        model_args = default_model_args(model_name, splits, config)
    _warn_if_the_rate_never_drops(config)
    trainer = _Trainer(
        model,
        splits,
        config,
        checkpoint_path=Path(checkpoint_path),
        identity={"model_name": model_name, "model_args": dict(model_args)},
        progress=progress,
        stop_after_batches=stop_after_batches,
    )
    if resume is not None:
        trainer.resume_from(resume)

    return trainer.run()


@dataclass
class _Position:
    """Where a run stands: completed epochs, batches into the next, partial sums."""

    epoch: int = 0
    batch: int = 0
    loss_sum: float = 0.0
    samples: int = 0
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        partial = {"loss_sum": self.loss_sum, "samples": self.samples}

        return {
            "epoch": self.epoch,
            "batch": self.batch,
            "partial_epoch": {**partial, "seconds": self.seconds},
        }

    @classmethod
    def from_checkpoint(cls, checkpoint: dict[str, Any]) -> _Position:
        partial = checkpoint["partial_epoch"]

        return cls(
            epoch=checkpoint["epoch"],
            batch=checkpoint["batch"],
            loss_sum=partial["loss_sum"],
            samples=partial["samples"],
            seconds=partial["seconds"],
        )


class _Trainer:
    """State of one `train_model` call; methods are the loop's steps."""

    def __init__(
        self,
        model: nn.Module,
        splits,
        config,
        *,
        checkpoint_path: Path,
        identity: dict[str, Any],
        progress: bool,
        stop_after_batches: int | None,
    ) -> None:
        self.device = pick_device(config.device)
        self.model = model.to(self.device)
        self.splits, self.config = splits, config
        self.checkpoint_path, self.identity = checkpoint_path, identity
        self.progress, self.stop_after_batches = progress, stop_after_batches
        self.optimizer = torch.optim.Adam(model.parameters(), lr=config.learning_rate)
        self.position, self.history = _Position(), History()
        self.best: dict[str, Any] | None = None  # epoch, val_rmse, model_state
        self.batches_run = 0
        self.clock = time.perf_counter()

    def resume_from(self, checkpoint: dict[str, Any]) -> None:
        self.model.load_state_dict(checkpoint["model_state"])
        self.optimizer.load_state_dict(checkpoint["optimizer_state"])
        self.position = _Position.from_checkpoint(checkpoint)
        self.history = History.from_dict(checkpoint["history"])
        self.best = checkpoint.get("best")
        restore_rng_states(checkpoint["rng_states"])
        self._say(
            f"resuming {self.checkpoint_path} at epoch {self.position.epoch + 1}/"
            f"{self.config.epochs}, batch {self.position.batch}"
        )

    def run(self) -> History:
        for epoch in range(self.position.epoch, self.config.epochs):
            self._train_epoch(epoch)
            self._finish_epoch(epoch)
        if self.best is not None:
            self.model.load_state_dict(self.best["model_state"])

        return self.history

    def _train_epoch(self, epoch: int) -> None:
        total = self._batches_per_epoch()
        batches = self._batches(epoch)
        self._set_learning_rate(epoch)
        self.model.train()
        self.clock = time.perf_counter()
        with tqdm(
            total=total,
            initial=self.position.batch,
            desc=f"epoch {epoch + 1}/{self.config.epochs}",
            unit="batch",
            leave=False,
            disable=not self.progress,
        ) as bar:
            for done in range(self.position.batch + 1, total + 1):
                x, y = next(batches)
                loss = self._step(x, y, epoch, done)
                self.position.loss_sum += loss * len(y)
                self.position.samples += len(y)

                bar.update()
                bar.set_postfix(loss=f"{loss:.4g}", refresh=False)
                self._after_batch(done, total)

    def _set_learning_rate(self, epoch: int) -> None:
        # A function of the epoch alone, so a resumed run gets the same rate.
        for group in self.optimizer.param_groups:
            group["lr"] = learning_rate_at(self.config, epoch)

    def _batches_per_epoch(self) -> int:
        available = math.ceil(len(self.splits.train) / self.config.batch_size)
        limit = self.config.max_train_batches

        return min(available, limit) if limit else available

    def _batches(self, epoch: int):
        loader = self.splits.train.loader(
            self.config.batch_size,
            shuffle=True,
            seed=self.config.seed,
            epoch=epoch,
            start_batch=self.position.batch,
        )
        # Iterating a DataLoader draws a worker seed from torch's global RNG. Keep
        # that draw out of the stream dropout uses, or a resumed run would diverge.
        with torch.random.fork_rng(devices=[]):
            return iter(loader)

    def _step(self, x: torch.Tensor, y: torch.Tensor, epoch: int, batch: int) -> float:
        x, y = x.to(self.device), y.to(self.device)
        output = self.model(x)
        loss = F.mse_loss(_as_vector(output, len(y)), y)
        loss_value = loss.item()
        # Checked before the update, so the weights in memory stay finite too.
        if not math.isfinite(loss_value):
            raise FloatingPointError(
                f"training diverged: loss {loss_value} at epoch {epoch + 1}, batch "
                f"{batch}; lower LEARNING_RATE ({_rate_text(self.config, epoch)})"
            )

        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()

        return loss_value

    def _after_batch(self, done: int, total: int) -> None:
        self.position.batch = done
        self.batches_run += 1
        every = self.config.autosave_every
        if every and done % every == 0 and done < total:
            self._save()
        if (
            self.stop_after_batches is not None
            and self.batches_run >= self.stop_after_batches
        ):
            raise TrainingInterrupted(
                f"stopped after {self.batches_run} batches (stop_after_batches)"
            )

    def _finish_epoch(self, epoch: int) -> None:
        val_rmse = self._validation_rmse()
        self._tick()
        samples = self.position.samples
        train_loss = self.position.loss_sum / samples if samples else math.nan
        self.history.train_loss.append(train_loss)
        self.history.val_rmse.append(val_rmse)
        self.history.epoch_seconds.append(self.position.seconds)
        self._remember_best(epoch, val_rmse)
        self.history.selected_epoch = self.best["epoch"] if self.best else epoch + 1

        self._report(epoch)
        self.position = _Position(epoch=epoch + 1)
        self._save()

    def _remember_best(self, epoch: int, val_rmse: float | None) -> None:
        if not self.config.select_best or val_rmse is None:
            return
        if self.best is None or val_rmse < self.best["val_rmse"]:
            state = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
            self.best = {"epoch": epoch + 1, "val_rmse": val_rmse, "model_state": state}

    def _validation_rmse(self) -> float | None:
        if self.splits.val is None:
            return None
        predictions = predict(self.model, self.splits.val, self.config.batch_size)

        return rmse(self.splits.val.labels(), predictions)

    def _tick(self) -> None:
        now = time.perf_counter()
        self.position.seconds += now - self.clock
        self.clock = now

    def _report(self, epoch: int) -> None:
        val_rmse = self.history.val_rmse[-1]
        val_text = "n/a" if val_rmse is None else f"{val_rmse:.4f}"
        line = (
            f"epoch {epoch + 1:>3}/{self.config.epochs}  "
            f"train_loss {self.history.train_loss[-1]:12.4f}  "
            f"val_rmse {val_text:>9}  "
            f"time {self.history.epoch_seconds[-1]:8.2f}s"
        )
        self._say(line)

    def _say(self, line: str) -> None:
        """One line beside the progress bars, else through logging (INFO)."""
        if self.progress:
            tqdm.write(line)
        else:
            logger.info(line)

    def _save(self) -> None:
        self._tick()
        checkpoint = build_checkpoint(
            **self.identity,
            model=self.model,
            optimizer=self.optimizer,
            progress=self.position.to_dict(),
            history=self.history.to_dict(),
            config=self.config.to_dict(),
            splits=self.splits,
        )
        checkpoint["best"] = self.best
        save_checkpoint(checkpoint, self.checkpoint_path)


def learning_rate_at(config, epoch: int) -> float:
    """Learning rate of 0-based `epoch` under the configured step drop."""
    dropped = config.lr_drop_epoch and epoch + 1 >= config.lr_drop_epoch

    return config.learning_rate * (config.lr_drop_factor if dropped else 1.0)


def _rate_text(config, epoch: int) -> str:
    """'now 0.001', plus the dropped rate when `epoch` trains at it."""
    text = f"now {config.learning_rate}"
    rate = learning_rate_at(config, epoch)
    if rate == config.learning_rate:
        return text

    return f"{text}; epoch {epoch + 1} trains at {rate:.3g} after LR_DROP_EPOCH"


def _warn_if_the_rate_never_drops(config) -> None:
    if config.lr_drop_epoch > config.epochs and config.lr_drop_factor != 1:
        warnings.warn(
            f"LR_DROP_EPOCH={config.lr_drop_epoch} is after the last epoch "
            f"(EPOCHS={config.epochs}): the learning rate never drops in this run",
            stacklevel=3,
        )


def _as_vector(output: torch.Tensor, batch_size: int) -> torch.Tensor:
    """(B, 1) or (B,) model output as (B,), refusing any other shape."""
    if output.shape not in ((batch_size, 1), (batch_size,)):
        raise ValueError(
            f"model output has shape {tuple(output.shape)}; expected "
            f"({batch_size}, 1) for a batch of {batch_size} windows"
        )

    return output.reshape(batch_size)


def predict(
    model: nn.Module, dataset, batch_size: int = 256, *, progress: bool = False
) -> np.ndarray:
    """Predictions for every window of `dataset`, in dataset order.

    Runs in eval mode without gradients and restores the model's previous mode.
    Batches are gathered by index, not through a DataLoader, so prediction never
    touches the global RNG.

    Args:
        model: Network mapping a batch of windows to (B, 1) RUL.
        dataset: A `WindowDataset` with the layout the model reads.
        batch_size: Windows per forward pass.
        progress: Show a tqdm bar.

    Returns:
        (n,) float32 predicted RUL in cycles.
    """
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    outputs = []
    starts = range(0, len(dataset), batch_size)
    with torch.no_grad():
        for start in tqdm(starts, desc="predict", leave=False, disable=not progress):
            x, _ = dataset[start : start + batch_size]
            output = model(x.to(device))
            outputs.append(_as_vector(output, len(x)).cpu())
    model.train(was_training)

    return torch.cat(outputs).numpy() if outputs else np.empty(0, np.float32)


def selected_state(checkpoint: dict[str, Any]) -> dict[str, torch.Tensor]:
    """Weights of the selected epoch (best validation RMSE), else the last ones."""
    best = checkpoint.get("best")

    return best["model_state"] if best else checkpoint["model_state"]


def load_for_inference(path: str | Path, device: str = "auto") -> LoadedModel:
    """Rebuild a checkpoint's model for inference, with its scaler and features.

    Args:
        path: Checkpoint file (any registered architecture).
        device: Torch device name, or "auto".

    Returns:
        `LoadedModel` with the model in eval mode on `device`.

    Raises:
        FileNotFoundError, CheckpointError: For a missing or unreadable file.
    """
    checkpoint = load_upgraded_checkpoint(path)
    model = build_model(checkpoint["model_name"], checkpoint["model_args"])
    model.load_state_dict(selected_state(checkpoint))
    windows = checkpoint["windows"]

    return LoadedModel(
        model=model.to(pick_device(device)).eval(),
        model_name=checkpoint["model_name"],
        scaler=_scaler_from_dict(checkpoint["scaler"]),
        feature_names=list(checkpoint["feature_names"]),
        win_len=windows["win_len"],
        layout=windows["layout"],
        history=History.from_dict(checkpoint["history"]),
        config=checkpoint["config"],
    )


def _scaler_from_dict(values: dict[str, Any]) -> ScalerStats | ConditionScalerStats:
    if values.get("kind") == "per_condition":
        return ConditionScalerStats.from_dict(values)

    return ScalerStats.from_dict(values)
