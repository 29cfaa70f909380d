"""The main job's data summary and the generated default data file."""

from __future__ import annotations

import pytest

import config as config_module
from config import get_config
from src import run, sources
from src.data_loader import DataFileError


def test_summary_lists_units_windows_features_and_scaler(
    tiny_file, capsys, monkeypatch
):
    monkeypatch.setenv("FILENAME", str(tiny_file))
    monkeypatch.setenv("WIN_LEN", "3")
    monkeypatch.setattr("sys.argv", ["src.run", "--summary"])

    run.main()

    printed = capsys.readouterr().out
    assert f"Data: {tiny_file}" in printed
    assert "Windows (win_len=3, stride=1, downsample=1): train " in printed
    assert "test 25" in printed  # units 11 and 14: 15 - 2 and 14 - 2 windows
    assert "Features (32): alt, Mach, TRA, T2, T24" in printed
    assert "Scaler statistics (training units only)" in printed


def test_missing_custom_file_is_not_replaced_by_generated_data(tmp_path):
    config = get_config(environ={"FILENAME": str(tmp_path / "mine.h5")})

    with pytest.raises(DataFileError, match="mine.h5 does not exist"):
        sources.data_file(config)


def test_a_folder_as_data_file_is_named_as_not_a_file(tmp_path):
    config = get_config(environ={"FILENAME": str(tmp_path)})

    with pytest.raises(DataFileError, match=f"{tmp_path} is not a file"):
        sources.data_file(config)


def test_absent_default_file_is_generated_once_and_said(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(sources, "ROOT", tmp_path)
    monkeypatch.setattr(config_module, "ROOT", tmp_path)  # default FILENAME absent
    config = get_config(environ={})

    first = sources.data_file(config)
    second = sources.data_file(config)

    assert first == second == tmp_path / sources.GENERATED_FILENAME
    assert first.is_file()
    assert "generating" in caplog.text and "using the generated" in caplog.text


def test_load_model_default_path_follows_the_file_actually_read(
    tiny_file, tmp_path, monkeypatch
):
    from src import cnn

    monkeypatch.setenv("FILENAME", str(tiny_file))
    monkeypatch.setenv("CHECKPOINT_PATH", str(tmp_path / "{dataset}" / "{model}.pt"))
    monkeypatch.setattr(cnn, "load_for_inference", lambda path, device: path)

    path = cnn.load_model()

    assert path == tmp_path / tiny_file.stem / "cnn.pt"


def test_summary_of_a_truncated_file_exits_with_one_line(
    tiny_file, tmp_path, monkeypatch
):
    truncated = tmp_path / "truncated.h5"
    truncated.write_bytes(tiny_file.read_bytes()[:2000])
    monkeypatch.setenv("FILENAME", str(truncated))
    monkeypatch.setattr("sys.argv", ["src.run", "--summary"])

    with pytest.raises(SystemExit) as stopped:
        run.main()

    message = str(stopped.value.code)
    assert message.startswith("data error: ")
    assert "truncated.h5" in message and "\n" not in message


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"FEATURES": "foo"}, "unknown feature group(s) ['foo']"),
        ({"VAL_UNITS": "11"}, "validation unit(s) [11] are not dev units"),
    ],
)
def test_summary_with_settings_the_data_cannot_meet_exits_with_one_line(
    tiny_file, monkeypatch, setting, message
):
    monkeypatch.setenv("FILENAME", str(tiny_file))
    for name, value in setting.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr("sys.argv", ["src.run", "--summary"])

    with pytest.raises(SystemExit) as stopped:
        run.main()  # printed a traceback

    printed = str(stopped.value.code)
    assert printed.startswith("configuration error: ") and message in printed
    assert "\n" not in printed


def test_notebooks_are_named_with_or_without_their_suffix(
    monkeypatch, tiny_file, capsys
):
    monkeypatch.setenv("FILENAME", str(tiny_file))
    ran = []
    monkeypatch.setattr(run, "run_all", lambda names, reports: ran.extend(names) or 1)
    monkeypatch.setattr("sys.argv", ["src.run", "overview.ipynb", "cnn_model"])

    run.main()

    assert ran == ["overview", "cnn_model"]  # overview.ipynb.ipynb was not found
    monkeypatch.setattr("sys.argv", ["src.run", "overview.txt"])
    with pytest.raises(SystemExit) as stopped:
        run.main()
    assert stopped.value.code == 2
    printed = capsys.readouterr().err
    assert "unknown notebook 'overview.txt'; expected some of" in printed


def test_main_job_with_a_missing_data_file_exits_with_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("FILENAME", str(tmp_path / "absent.h5"))
    monkeypatch.setattr("sys.argv", ["src.run"])

    with pytest.raises(SystemExit) as stopped:
        run.main()

    message = str(stopped.value.code)
    assert message.startswith("data error: data file ")
    assert "absent.h5 does not exist" in message and "\n" not in message


def test_main_job_stopped_by_ctrl_c_exits_130_without_a_traceback(
    tiny_file, monkeypatch
):
    # run_all has printed which notebook stopped (tests/test_notebooks.py)
    monkeypatch.setenv("FILENAME", str(tiny_file))
    monkeypatch.setattr("sys.argv", ["src.run"])

    def interrupted(names, reports_dir):
        raise KeyboardInterrupt

    monkeypatch.setattr(run, "run_all", interrupted)

    with pytest.raises(SystemExit) as stopped:
        run.main()

    assert stopped.value.code == 130
