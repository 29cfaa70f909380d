"""Configuration: defaults, profiles, dataset defaults, environment overrides."""

from __future__ import annotations

import pytest

import config
from config import get_config


def test_original_design_values_and_names():
    resolved = get_config(environ={}, profile="full")

    assert resolved.epochs == 10
    assert resolved.learning_rate == 1e-4
    assert (resolved.batch_size, resolved.win_len) == (256, 10)
    assert (resolved.autosave_every, resolved.load_model) == (500, True)
    assert resolved.filename == "datasets/N-CMAPSS_DS02-006.h5"
    assert resolved.cnn_arch == "original"
    assert get_config().batch_size == config.BATCH_SIZE


def test_quick_profile_and_cmapss_use_the_temporal_cnn_unless_overridden():
    quick = get_config(environ={})
    full_cmapss = get_config(environ={"PROFILE": "full", "DATASET": "cmapss:FD003"})
    chosen = get_config(environ={"CNN_ARCH": "original"})

    assert (quick.profile, quick.cnn_arch) == ("quick", "temporal")
    assert quick.cnn_activation == "leaky_relu"
    assert (full_cmapss.cnn_arch, full_cmapss.cnn_activation) == ("temporal", "tanh")
    assert chosen.cnn_arch == "original"


def test_environment_overrides_profile_and_defaults():
    environ = {"PROFILE": "smoke", "EPOCHS": "4", "VAL_UNITS": "2,5", "LOAD_MODEL": "0"}

    resolved = get_config(environ=environ)

    assert resolved.epochs == 4  # the environment wins over the profile
    assert resolved.max_train_batches == 20  # from the smoke profile
    assert resolved.val_units == (2, 5)
    assert resolved.load_model is False


def test_keyword_overrides_win_over_environment():
    resolved = get_config(environ={"WIN_LEN": "12"}, win_len=7)

    assert resolved.win_len == 7


def test_cmapss_defaults_follow_the_protocol_unless_overridden():
    cmapss = get_config(environ={"DATASET": "cmapss:FD001"})
    shorter = get_config(environ={"DATASET": "cmapss:FD003", "WIN_LEN": "20"})

    assert (cmapss.win_len, cmapss.rul_cap) == (30, 125.0)
    assert shorter.win_len == 20
    assert cmapss.checkpoint_file("cnn").parts[-2:] == ("cmapss_FD001", "cnn.pt")


@pytest.mark.parametrize(
    ("spelling", "canonical"),
    [
        ("CMAPSS:fd001", "cmapss:FD001"),
        ("cmapss:fd004", "cmapss:FD004"),
        ("NCMAPSS", "ncmapss"),
    ],
)
def test_dataset_is_case_insensitive_and_resolved_to_one_spelling(spelling, canonical):
    from_environment = get_config(environ={"DATASET": spelling})
    from_keyword = get_config(environ={}, dataset=spelling)

    assert from_environment.dataset == from_keyword.dataset == canonical
    assert from_environment == get_config(environ={"DATASET": canonical})


def test_dataset_with_spaces_is_refused_by_name():
    with pytest.raises(ValueError, match="unknown dataset ' cmapss:FD001'.*no spaces"):
        get_config(environ={"DATASET": " cmapss:FD001"})


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"EPOCHS": "ten"}, "EPOCHS='ten' is not a valid int: "),
        ({"LOAD_MODEL": "maybe"}, "LOAD_MODEL='maybe'"),
        ({"PROFILE": "fast"}, "unknown profile 'fast'"),
        ({"DATASET": "cmaps:FD001"}, "unknown dataset 'cmaps:FD001'"),
        ({"DATASET": "cmapss:FD009"}, "unknown dataset 'cmapss:FD009'"),
        ({"DATASET": "ncmapss:DS02"}, "unknown dataset 'ncmapss:DS02'"),
        ({"WIN_LEN": "0"}, "win_len must be >= 1, got 0"),
        ({"VAL_FRACTION": "1.5"}, "val_fraction must be in"),
        ({"LEARNING_RATE": "nan"}, "learning_rate must be a finite number > 0"),
        ({"LEARNING_RATE": "inf"}, "learning_rate must be a finite number > 0"),
        ({"SEED": "-1"}, "seed must be >= 0, got -1"),
        ({"LR_DROP_EPOCH": "-1"}, "lr_drop_epoch must be >= 0 .0 = never., got -1"),
        ({"LR_DROP_FACTOR": "0"}, "lr_drop_factor must be in .0, 1., got 0.0"),
        ({"CNN_ACTIVATION": "relu"}, "cnn_activation must be one of .* got 'relu'"),
        (
            {"PROFILE": "full", "CNN_ACTIVATION": "tanh"},
            "cnn_activation 'tanh' needs cnn_arch 'temporal'",
        ),
        ({"CNN_ARCH": "resnet"}, "cnn_arch must be one of .* got 'resnet'"),
    ],
)
def test_bad_values_are_named(environ, message):
    with pytest.raises(ValueError, match=message):
        get_config(environ=environ)


def test_unknown_field_is_refused():
    with pytest.raises(ValueError, match="unknown config field"):
        get_config(environ={}, epoch=3)
    with pytest.raises(AttributeError, match="NOT_A_SETTING"):
        config.NOT_A_SETTING  # noqa: B018
