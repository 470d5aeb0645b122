"""SWA and SWAD against independent references: model selection sees averaged networks only (and
so never returns ERM's predictions), batch-norm statistics equal torch's ``update_bn`` on the
training data, SWAD's window follows the validation loss by the LossValley rule worked out by
hand, SWA's learning rate follows ``torch.optim.swa_utils.SWALR``, and a killed run resumes to
identical outputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from method_features import feature_data, feature_model
from torch.optim.swa_utils import SWALR, update_bn
from torch.utils.data import DataLoader

from fairmedia import layout
from fairmedia.data.prepared import load_prepared
from fairmedia.data.synthetic import write_synthetic
from fairmedia.data.torch_dataset import PreparedImageDataset
from fairmedia.methods.registry import get_method
from fairmedia.models.registry import build_model
from fairmedia.training.config import TrainConfig
from fairmedia.training.loop import train_run
from fairmedia.training.outputs import load_candidates
from fairmedia.training.selection import SELECTIONS

EPOCHS, BATCH = 6, 32


@pytest.fixture(scope="module")
def prepared_dir(tmp_path_factory):
    torch.set_num_threads(1)
    return write_synthetic(tmp_path_factory.mktemp("wa") / "rep", "representation", n=600,
                           size=16, seed=0)


def _cfg(prepared_dir, out, method, **kw):
    return TrainConfig(prepared=str(prepared_dir), out=str(out), method=method, arch="cnn-small",
                       epochs=EPOCHS, batch_size=BATCH, threads=1, seed=1, **kw)


@pytest.fixture(scope="module")
def runs(prepared_dir, tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    return {m: train_run(_cfg(prepared_dir, root / m, m), log=lambda *_: None)
            for m in ("erm", "swa", "swad")}


def _scores(run):
    long = pd.read_parquet(run / layout.EPOCH_SCORES)
    return long.pivot(index="sample_id", columns="epoch", values="score")


def test_only_averaged_epochs_are_selected_and_never_give_erms_predictions(runs):
    erm = _scores(runs["erm"])
    # SWA at the default start 0.35: round(0.35·6) = 2 epochs trained, first average after epoch
    # 1, the second (a real average of two) after epoch 2 — candidates 2..5. SWAD: only the final
    # average, which on this run exists only at the last epoch.
    expected = {"swa": [2, 3, 4, 5], "swad": [EPOCHS - 1]}
    for method, candidates in expected.items():
        hist = pd.read_csv(runs[method] / layout.HISTORY)
        assert hist.loc[hist["candidate"], "epoch"].tolist() == candidates, method
        assert load_candidates(runs[method]).tolist() == candidates
        pred = pd.read_parquet(runs[method] / layout.PREDICTIONS)
        assert set(pred["selection"]) == set(SELECTIONS)
        for selection, block in pred.groupby("selection"):
            epoch = int(block["epoch"].iloc[0])
            assert epoch in candidates, (method, selection, epoch)
            mine = block.set_index("sample_id")["score"]
            # not ERM's network at any epoch (same seed, same batches until averaging starts)
            gaps = [np.abs(mine - erm.loc[mine.index, e]).max() for e in erm.columns]
            assert min(gaps) > 1e-3, (method, selection, gaps)


def test_saved_average_has_batch_norm_statistics_recomputed_on_the_training_data(runs, prepared_dir):
    prepared = load_prepared(prepared_dir)
    train_rows = prepared.indices("train")
    steps = len(train_rows) // BATCH
    ds = PreparedImageDataset(prepared, train_rows, np.zeros(len(prepared.metadata), np.int64))
    batches = [x for i, (x, *_) in enumerate(DataLoader(ds, batch_size=BATCH)) if i < steps]
    for method in ("swa", "swad"):
        epoch = int(pd.read_parquet(runs[method] / layout.PREDICTIONS)["epoch"].max())
        saved = torch.load(layout.weights_file(runs[method], epoch), weights_only=True)
        net = build_model("cnn-small", 1)
        net.load_state_dict(saved)
        for m in net.modules():  # garbage in, so only update_bn can bring them back
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.fill_(5.0)
                m.running_var.fill_(5.0)
        with torch.no_grad():
            update_bn(batches, net)
        ref = net.state_dict()
        bn_keys = [k for k in saved if k.endswith(("running_mean", "running_var"))]
        assert bn_keys
        for k in bn_keys:
            assert torch.allclose(saved[k], ref[k], atol=1e-5, rtol=1e-5), (method, k)


def _swad(n_epochs, steps=2, **hp):
    cls = get_method("swad")
    params = {k: v.default for k, v in cls.hparams.items()} | hp
    return cls(feature_model(0), 2, params, lr=1e-2, epochs=n_epochs, steps_per_epoch=steps)


def _drive_swad(losses, steps=2, **hp):  # one validation point per epoch
    """Train SWAD for len(losses) epochs, reporting losses[e] as epoch e's validation loss; the
    iterates after every step, and per epoch (rescored?, candidate?)."""
    m = _swad(len(losses), steps, **hp)
    x, y, a = feature_data(64, 0)
    snaps, flags = [], []
    for epoch, loss in enumerate(losses):
        for _ in range(steps):
            m.update(x, y, a)
            snaps.append(torch.cat([p.detach().flatten().clone() for p in m.model.parameters()]))
        m.on_epoch_end(epoch)
        flags.append((m.on_validation(epoch, loss), m.selection_candidate(epoch)))
    return m, torch.stack(snaps), flags


def _final_vector(m):
    return torch.cat([p.detach().flatten() for p in m.eval_model().parameters()])


@pytest.mark.parametrize("case", ["comes-back", "dies", "never-converges", "rises-first"])
def test_swad_window_follows_the_validation_loss_valley(case):
    # LossValley with N_s = 3, N_e = 3, r = 1.3, worked by hand:
    # start: the first epoch whose loss is the lowest of itself and the next two, having fallen
    #   into it from the epoch before.
    #   e0..2 [1.0, .8, .6] min at .6; e1..3 [.8, .6, .5]; e2..4 [.6, .5, .55]; e3..5 [.5, .55, .52]
    #   -> min first: start = epoch 3, threshold = 1.3 · mean(.5, .55, .52) = 0.680333.
    # end: the window closes after 3 consecutive epochs above the threshold and ends at the last
    #   epoch at or under it.
    losses = {
        # e6 .9 waits, e7 .65 brings it back (6, 7 join), e8 .8, e9 .75 trail: window 3..7,
        # finished by the end of training -> only the last epoch is a candidate.
        "comes-back": ([1.0, .8, .6, .5, .55, .52, .9, .65, .8, .75], (3, 7), [9]),
        # e6 .9, e7 .8, e8 .85 all above: closed at epoch 8, window 3..5; e9's loss is ignored.
        "dies": ([1.0, .8, .6, .5, .55, .52, .9, .8, .85, .6], (3, 5), [8, 9]),
        # always decreasing: no valley; the last epoch's dense average (official fallback).
        "never-converges": ([1.0, .9, .8, .7, .6, .5], (5, 5), [5]),
        # rises from the initial loss first: point 0 is the lowest of [.69, .75, .8] but the loss
        # never fell into it, so not a start; the first start after a fall is point 4 (.6 < .7,
        # lowest of [.6, .65, .62]); threshold 1.3 · 0.623333 = 0.810333, all later under it.
        "rises-first": ([.69, .75, .8, .7, .6, .65, .62, .61], (4, 7), [7]),
    }[case]
    seq, (start, end), candidates = losses
    steps = 2
    m, snaps, flags = _drive_swad(seq, steps, n_converge=3, n_tolerance=3, tolerance_ratio=0.3)
    assert [e for e, (_, cand) in enumerate(flags) if cand] == candidates
    assert [e for e, (rescore, _) in enumerate(flags) if rescore] == [candidates[0]]
    expected = snaps[start * steps:(end + 1) * steps].mean(0)
    assert torch.allclose(_final_vector(m), expected, atol=1e-6)
    assert (int(m.start_point), int(m.end_point)) == (start, end)


def test_swad_saves_and_restores_its_valley_state():
    seq = [1.0, .8, .6, .5, .55, .52, .9, .65, .8, .75]
    ref, _, _ = _drive_swad(seq)
    x, y, a = feature_data(64, 0)
    first = _swad(len(seq))
    for epoch in range(6):
        for _ in range(2):
            first.update(x, y, a)
        first.on_validation(epoch, seq[epoch])
    state = {k: v.clone() for k, v in first.state_dict().items()}
    opt_state = first.optimizer.state_dict()
    resumed = _swad(len(seq))
    resumed.load_state_dict(state)
    resumed.optimizer.load_state_dict(opt_state)
    for epoch in range(6, len(seq)):
        for _ in range(2):
            resumed.update(x, y, a)
        resumed.on_validation(epoch, seq[epoch])
    assert torch.allclose(_final_vector(resumed), _final_vector(ref), atol=1e-6)


def test_swa_learning_rate_follows_swalr_and_averages_from_the_start_epoch():
    cls = get_method("swa")
    epochs, lr = 9, 1e-2
    hp = {"start": 0.34, "swa_lr": 1e-3, "anneal_epochs": 3}  # round(3.06) = 3 epochs first
    m = cls(feature_model(0), 2, hp, lr=lr, epochs=epochs, steps_per_epoch=1)
    ref_opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr)
    sched = SWALR(ref_opt, swa_lr=1e-3, anneal_epochs=3, anneal_strategy="cos")
    x, y, a = feature_data(64, 0)
    ends, used = [], []
    for epoch in range(epochs):
        used.append(m.optimizer.param_groups[0]["lr"])
        assert used[-1] == pytest.approx(ref_opt.param_groups[0]["lr"], rel=1e-12), epoch
        m.update(x, y, a)
        ends.append(torch.cat([p.detach().flatten().clone() for p in m.model.parameters()]))
        m.on_epoch_end(epoch)
        ref_opt.step()
        if epoch >= 2:  # MEDFAIR / torch docs: average and step SWALR after the epoch
            sched.step()
    assert used[:3] == [lr] * 3 and used[-1] == pytest.approx(1e-3)  # the schedule moved
    assert len(set(used[3:6])) == 3  # annealing over 3 epochs, not a jump
    assert torch.allclose(_final_vector(m), torch.stack(ends[2:]).mean(0), atol=1e-6)


class _Stop(Exception):
    pass


@pytest.mark.parametrize("method", ["swa", "swad"])
def test_killed_run_resumes_to_identical_outputs(runs, prepared_dir, tmp_path, method):
    def stop_after_epoch_3(msg):
        if " epoch 3/" in msg:
            raise _Stop

    out = tmp_path / method
    with pytest.raises(_Stop):
        train_run(_cfg(prepared_dir, out, method), log=stop_after_epoch_3)
    assert (out / layout.CHECKPOINT).exists() and not (out / layout.PREDICTIONS).exists()
    train_run(_cfg(prepared_dir, out, method), log=lambda *_: None)
    for name in (layout.PREDICTIONS, layout.EPOCH_SCORES):
        pd.testing.assert_frame_equal(pd.read_parquet(runs[method] / name),
                                      pd.read_parquet(out / name), check_exact=True)
