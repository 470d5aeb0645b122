"""What `fairmedia train` tells its user: the device it chose and why, the precision, and a final
summary line; `--device auto` (the default) is CUDA when torch sees a GPU, else the CPU."""

from __future__ import annotations

import pandas as pd
import pytest
import torch

from fairmedia.cli import build_parser, main
from fairmedia.commands import train
from fairmedia.errors import UserError
from fairmedia.training.devices import resolve_device


def test_train_device_defaults_to_auto():
    args = build_parser([train]).parse_args(["train", "--prepared", "p", "--out", "o"])
    assert args.device == "auto"


def test_auto_is_the_cpu_without_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    device, line = resolve_device("auto")
    assert device == torch.device("cpu")
    assert line == "device cpu (--device auto: no CUDA device on this machine)"


def test_auto_is_cuda_when_available(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda d=None: "Test GPU")
    device, line = resolve_device("auto")
    assert device == torch.device("cuda")
    assert line == "device cuda (Test GPU) (--device auto: CUDA is available)"


def test_explicit_cuda_without_cuda_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(UserError) as err:
        resolve_device("cuda")
    assert str(err.value) == ("--device 'cuda': CUDA is not available on this machine; use "
                              "--device cpu (or auto)")


def test_train_logs_device_precision_and_a_summary(tiny_prepared, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    out = tmp_path / "run"
    assert main(["train", "--prepared", str(tiny_prepared), "--out", str(out), "--method", "erm",
                 "--attribute", "sex", "--epochs", "2", "--batch-size", "32", "--threads", "1",
                 "--amp"]) == 0
    lines = capsys.readouterr().out.splitlines()
    tag = "[erm cnn-small sex seed0]"
    assert f"{tag} device cpu (--device auto: no CUDA device on this machine); precision fp32" \
        in lines
    # The epoch each criterion selected, as predictions.parquet records it (1-based in the log).
    chosen = pd.read_parquet(out / "predictions.parquet").groupby("selection")["epoch"].first()
    expected = ", ".join(f"{c} {int(chosen[c]) + 1}"
                         for c in ("overall", "worst_group", "dto", "pareto", "min_encoding"))
    assert lines[-1].startswith(f"{tag} done: 2 epochs; selected epoch (by val, sex): {expected}; ")
    assert lines[-1].endswith(f"s; outputs in {out}")
