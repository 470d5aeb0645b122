"""Bad arguments are one clear line and exit status 2, before any work (issue 12, item 9)."""

from __future__ import annotations

import pytest

from fairmedia.cli import main


def _error(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err


@pytest.mark.parametrize("device", ["gpu0", "cuda0", "CUDA", "cuda:x", ""])
def test_train_with_an_unknown_device_fails_before_loading_data(tmp_path, capsys, device):
    # The prepared folder does not exist: the device must be checked before it is read.
    code = main(["train", "--prepared", str(tmp_path / "no-such-dataset"), "--out",
                 str(tmp_path / "run"), "--device", device])
    err = _error(capsys)
    assert code == 2
    assert f"--device {device!r} is not a device name" in err
    assert "cpu, cuda, cuda:N" in err and "mps, auto" in err
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--set", "contrast=abc"], "synthetic option 'contrast' must be a list of 2 numbers"),
        (["--set", "noise=abc"], "synthetic option 'noise' must be a number; got 'abc'"),
        (["--set", "second_attribute=maybe"], "'second_attribute' must be true or false"),
        (["--n", "-5"], "synthetic option 'n' must be an integer >= 1; got -5"),
        (["--size", "0"], "synthetic option 'size' must be an integer >= 8; got 0"),
        (["--set", "n=2.5"], "synthetic option 'n' must be an integer; got 2.5"),
    ],
)
def test_synth_with_a_bad_knob_value_names_knob_type_and_value(tmp_path, capsys, args, expected):
    out = tmp_path / "synth"
    assert main(["synth", "--out", str(out), *args]) == 2
    err = _error(capsys)
    assert expected in err
    assert not out.exists()
