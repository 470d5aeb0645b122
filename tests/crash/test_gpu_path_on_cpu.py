"""The GPU path is switched by config and off on CPU: turning every switch on leaves a CPU run
bit-identical; the switches themselves do what they say when they apply; retuning speed-only
settings does not change what Snakemake tracks as the job's parameters."""

from __future__ import annotations

import json

import pandas as pd
import torch
from torch import nn

from fairmedia import grid
from fairmedia.training import accelerate
from fairmedia.training.config import TrainConfig
from fairmedia.training.loop import train_run


def _cfg(prepared, out, **kw) -> TrainConfig:
    kw = {"epochs": 2, "device": "cpu", **kw}  # CPU even on a GPU machine: the claim is about CPU
    return TrainConfig(prepared=str(prepared), out=str(out), method="erm", seed=3,
                       batch_size=32, threads=1, **kw)


def test_gpu_switches_leave_a_cpu_run_bit_identical(tiny_prepared, tmp_path):
    plain = train_run(_cfg(tiny_prepared, tmp_path / "plain"), log=lambda m: None)
    messages: list[str] = []
    switched = train_run(_cfg(tiny_prepared, tmp_path / "switched", amp=True, channels_last=True,
                              compile=True, pin_memory=True), log=messages.append)
    for name in ("predictions.parquet", "epoch_scores.parquet"):
        pd.testing.assert_frame_equal(pd.read_parquet(plain / name), pd.read_parquet(switched / name),
                                      check_exact=True)
    assert any("no effect on device cpu" in m for m in messages)
    info = json.loads((switched / "run.json").read_text())
    assert info["acceleration"] == {"amp": None, "channels_last": False, "compile": False,
                                    "pin_memory": False}


def test_cpu_resolution_drops_every_switch():
    acc = accelerate.resolve(torch.device("cpu"), amp=True, channels_last=True, compile=True,
                             pin_memory=True, spatial_dims=2, log=lambda m: None)
    assert acc == accelerate.Acceleration(torch.device("cpu"))


def test_autocast_and_channels_last_act_when_on():
    """The mechanisms, exercised on CPU by building the GPU-side object directly."""
    acc = accelerate.Acceleration(torch.device("cpu"), amp_dtype=torch.bfloat16, channels_last=True)
    conv = nn.Conv2d(3, 4, 3)
    acc.prepare_model(conv)
    assert conv.weight.is_contiguous(memory_format=torch.channels_last)
    x = acc.to_device(torch.randn(2, 3, 8, 8))
    assert x.is_contiguous(memory_format=torch.channels_last)
    assert acc.to_device(torch.randn(2, 3)).dim() == 2  # labels and codes are left alone
    with acc.autocast():
        assert conv(x).dtype == torch.bfloat16
    assert conv(x).dtype == torch.float32  # off outside the context


def test_loader_options_pin_memory_and_prefetch():
    acc = accelerate.Acceleration(torch.device("cpu"), pin_memory=True)
    assert acc.loader_options(0) == {"num_workers": 0, "pin_memory": True}
    assert acc.loader_options(4) == {"num_workers": 4, "pin_memory": True, "prefetch_factor": 4}


def test_stale_partial_files_are_removed_before_a_restart(tiny_prepared, tmp_path):
    out = tmp_path / "run"
    (out / "weights").mkdir(parents=True)
    (out / "checkpoint.pt.partial").write_bytes(b"half a checkpoint")
    (out / "weights" / "epoch000.pt.partial").write_bytes(b"half")
    train_run(_cfg(tiny_prepared, out, epochs=1), log=lambda m: None)
    assert not list(out.rglob("*.partial"))
    assert (out / "run.json").exists()


def test_speed_only_settings_are_not_job_parameters():
    base = {"train": {"epochs": 3, "threads": 1, "num_workers": 0}}
    tuned = {"train": {"epochs": 3, "threads": 4, "num_workers": 6, "pin_memory": True,
                       "compile": True}}
    assert grid.train_args(base, "erm") == grid.train_args(tuned, "erm")
    assert grid.train_execution(tuned) == {"torch_threads": 4, "loader_workers": 6,
                                           "pin_memory": 1, "torch_compile": 1}
    # Result-changing switches are parameters, and appear only when on (old command lines kept).
    assert "--amp" not in grid.train_args(base, "erm")
    assert "--amp --channels-last" in grid.train_args({"train": {"amp": True,
                                                                 "channels_last": True}}, "erm")


def test_identity_ignores_compile_and_pinned_memory(tmp_path):
    a = TrainConfig(prepared="p", out="o")
    assert a.identity() == TrainConfig(prepared="p", out="o", compile=True, pin_memory=True).identity()
    assert a.identity() != TrainConfig(prepared="p", out="o", amp=True).identity()
