"""Compatibility of transfer pairs and aggregates: a mismatch is a config error naming it."""

from __future__ import annotations

import copy

import pytest

from fairmedia import grid
from fairmedia.data.cards import load_card
from fairmedia.errors import UserError

REAL = {
    "chexpert": {"card": "chexpert", "root": "/data/chexpert", "attributes": ["sex", "race_binary"]},
    "mimic": {"card": "mimic-cxr", "root": "/data/mimic", "attributes": ["sex", "race_binary"]},
    "nih": {"card": "nih-cxr14", "root": "/data/nih", "attributes": ["sex", "age_group"]},
    "ham": {"card": "ham10000", "root": "/data/ham", "attributes": ["sex"]},
    "odir": {"card": "odir5k", "root": "/data/odir", "attributes": ["sex"]},
    "adni": {"card": "adni-1.5t", "root": "/data/adni", "attributes": ["sex"]},
}


@pytest.fixture(autouse=True)
def _roots_with_the_cards_files(tmp_path, monkeypatch):
    """Planning checks that each root holds its card's required files: give each a stand-in."""
    for key, entry in REAL.items():
        root = tmp_path / key
        for name, spec in (load_card(entry["card"]).get("files") or {}).items():
            if spec.get("required", True):
                path = root / spec.get("candidates", [name])[0]
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text("")
        root.mkdir(exist_ok=True)
        monkeypatch.setitem(REAL, key, {**entry, "root": str(root)})


def config(**extra):
    return {"datasets": copy.deepcopy(REAL), "archs": ["cnn-small"],
            "methods": ["erm", "group-threshold"], "seeds": [0], **extra}


def test_compatible_pair_maps_attributes_through_the_cards():
    cfg = config(transfer=[{"source": "chexpert", "targets": ["mimic"]}])
    grid.check_config(cfg)
    # chexpert's race_binary is the concept `race`, which is mimic's race_binary
    assert grid.transfer_pairs(cfg) == {("chexpert", "mimic"): {"sex": "sex",
                                                               "race_binary": "race_binary"}}


@pytest.mark.parametrize("pair, message", [
    (("chexpert", "ham"), "label mismatch — 'chexpert' predicts 'no_finding' but 'ham' predicts "
                          "'malignant'"),
    (("chexpert", "odir"), "channel mismatch — 'chexpert' has 1-channel images, 'odir' has 3"),
    (("chexpert", "nih"), "attribute 'race' has no counterpart in 'nih'"),
    (("nih", "chexpert"), "'age_group' is 'chexpert''s column 'age_group', which is not among"),
    (("chexpert", "adni"), "label mismatch"),
    (("chexpert", "padchest"), "'padchest' is neither a key of datasets: nor of aggregate:"),
    (("chexpert", "chexpert"), "'chexpert' is both source and target"),
])
def test_incompatible_pair_is_a_config_error_naming_the_mismatch(pair, message):
    cfg = config(transfer=[{"source": pair[0], "targets": [pair[1]]}])
    with pytest.raises(UserError, match="config transfer\\[0\\]") as err:
        grid.check_config(cfg)
    assert message in str(err.value)


def test_restricting_attributes_makes_a_pair_compatible():
    cfg = config(transfer=[{"source": "chexpert", "targets": ["nih"], "attributes": ["sex"]}])
    grid.check_config(cfg)
    assert grid.transfer_pairs(cfg) == {("chexpert", "nih"): {"sex": "sex"}}


def test_aggregate_checks():
    ok = config(aggregate={"cxr": {"datasets": ["chexpert", "mimic"], "attributes": ["sex", "race"]}})
    grid.check_config(ok)
    # per-source evaluation: the aggregate towards each member, through the members' maps
    assert grid.transfer_pairs(ok) == {("cxr", "chexpert"): {"sex": "sex", "race": "race_binary"},
                                       ("cxr", "mimic"): {"sex": "sex", "race": "race_binary"}}
    assert "--member chexpert=results/prepared/chexpert --card chexpert=chexpert" in \
        grid.aggregate_command(ok, "cxr", "results/prepared/cxr")
    bad = [
        ({"cxr": {"datasets": ["chexpert", "ham"], "attributes": ["sex"]}}, "label mismatch"),
        ({"cxr": {"datasets": ["chexpert", "nih"], "attributes": ["race"]}},
         "attribute 'race' has no counterpart in 'nih'"),
        ({"chexpert": {"datasets": ["mimic", "nih"], "attributes": ["sex"]}}, "already a key"),
        ({"cxr": {"datasets": ["chexpert", "nope"], "attributes": ["sex"]}}, "'nope' is not a key"),
    ]
    for spec, message in bad:
        with pytest.raises(UserError, match=message):
            grid.check_config(config(aggregate=spec))


def test_synthetic_2d_and_3d_do_not_mix():
    cfg = {"datasets": {"s2": {"card": "synthetic", "attributes": ["sex"]},
                        "s3": {"card": "synthetic", "attributes": ["sex"], "options": {"dims": 3}}},
           "archs": ["cnn-small"], "methods": ["erm"], "seeds": [0],
           "transfer": [{"source": "s2", "targets": ["s3"]}]}
    with pytest.raises(UserError, match="image kind mismatch — 's2' is image2d, 's3' is volume3d"):
        grid.check_config(cfg)


def test_transfer_targets_skip_post_processing_runs_and_are_empty_without_transfer():
    cfg = config(transfer=[{"source": "chexpert", "targets": ["mimic"]}],
                 evaluation={}, selections=["overall"])
    methods = {r.method for _, _, r, _ in grid.transfer_runs(cfg)}
    assert methods == {"erm"}  # group-threshold keeps no weights of its own
    targets = grid.transfer_metrics_targets(cfg, "overall")
    assert targets == [f"results/transfer/chexpert__to__mimic/cnn-small/erm/any/seed0/eval/{a}/overall/"
                       "metrics.json" for a in ("sex", "race_binary")]
    assert grid.transfer_leaderboard_targets(cfg) == ["results/leaderboard/transfer/overall/leaderboard.md"]
    assert grid.transfer_leaderboard_targets(config()) == []
