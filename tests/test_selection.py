"""Model-selection rules on a hand-made candidates × groups table of val AUCs (epoch level).

The expected answers are computed by hand below from the definitions of Zong et al. (MEDFAIR,
ICLR 2023) — DTO: distance of AUC_g / max_c AUC_g to the all-ones vector; minimax Pareto: the
Pareto-optimal candidate best on g* = argmin_g max_c AUC_g — so that each rule picks a different
candidate. The same table at the hyperparameter level is in tests/test_hparam_search.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from fairmedia.training.selection import SELECTIONS, select_epoch, val_auc_by_epoch

# 4 candidates (epochs) × 3 groups (A, B, C) of val AUC, and the overall val AUC.
TABLE = np.array([
    [0.90, 0.70, 0.82],  # c0
    [0.68, 0.80, 0.60],  # c1: dominated by c3 (0.70 >= 0.68, 0.80 = 0.80, 0.72 >= 0.60)
    [0.85, 0.74, 0.74],  # c2
    [0.70, 0.80, 0.72],  # c3
])
OVERALL = np.array([0.80, 0.87, 0.82, 0.79])


def test_each_rule_on_the_hand_table():
    # overall: max of OVERALL -> c1 (0.87).
    assert select_epoch("overall", OVERALL, TABLE) == 1
    # worst_group: row minima 0.70, 0.60, 0.74, 0.70 -> c2.
    assert select_epoch("worst_group", OVERALL, TABLE) == 2
    # dto: utopia u = (0.90, 0.80, 0.82); distance of (A/u_A, B/u_B, C/u_C) to (1, 1, 1):
    #   c0 (1, 0.875, 1)               -> 0.125
    #   c1 (0.7556, 1, 0.7317)         -> sqrt(0.0598 + 0 + 0.0720) = 0.363
    #   c2 (0.9444, 0.925, 0.9024)     -> sqrt(0.0031 + 0.0056 + 0.0095) = 0.135
    #   c3 (0.7778, 1, 0.8780)         -> sqrt(0.0494 + 0 + 0.0149) = 0.253   -> c0.
    u = np.array([0.90, 0.80, 0.82])
    dist = [np.sqrt(sum((a / b - 1) ** 2 for a, b in zip(row, u))) for row in TABLE]
    assert np.round(dist, 3).tolist() == [0.125, 0.363, 0.135, 0.253]
    assert select_epoch("dto", OVERALL, TABLE) == 0
    # pareto: column maxima 0.90, 0.80, 0.82 -> g* = B. B = 0.80 for c1 and c3, but c1 is
    # dominated by c3, so the front's best on B is c3 (taking the first B maximum would give c1).
    assert select_epoch("pareto", OVERALL, TABLE) == 3
    assert len({select_epoch(r, OVERALL, TABLE) for r in SELECTIONS}) == 4


def test_old_minmax_dto_is_not_what_dto_computes():
    # Min-max normalising each group over candidates (the rule this project used before) gives
    # distances c0 1.0, c1 1.414, c2 0.737, c3 1.016 -> c2; MEDFAIR's ratio to the utopia gives c0.
    lo, hi = TABLE.min(axis=0), TABLE.max(axis=0)
    minmax = np.sqrt((((hi - TABLE) / (hi - lo)) ** 2).sum(axis=1))
    assert np.round(minmax, 3).tolist() == [1.0, 1.414, 0.737, 1.016]
    assert int(np.argmin(minmax)) == 2
    assert select_epoch("dto", OVERALL, TABLE) == 0


def test_rules_from_scores_through_val_auc_by_epoch():
    # Two epochs × 8 val rows in groups a/b: AUCs by hand (positives ranked over negatives).
    y = np.array([0, 1, 0, 1, 0, 1, 0, 1])
    g = np.array(["a", "a", "a", "a", "b", "b", "b", "b"])
    scores = np.array([
        [0.1, 0.9, 0.2, 0.8, 0.6, 0.5, 0.4, 0.7],  # a: 1.0; b: pos (0.5, 0.7) vs neg (0.6, 0.4)
        [0.3, 0.6, 0.5, 0.4, 0.1, 0.9, 0.2, 0.8],  # a: 0.5; b: 1.0
    ])
    overall, per_group = val_auc_by_epoch(scores, y, g)
    # epoch 0, group b: pairs (0.5>0.6 no, 0.5>0.4 yes, 0.7>0.6 yes, 0.7>0.4 yes) = 3/4.
    # epoch 1, group a: pos (0.6, 0.4) vs neg (0.3, 0.5): yes, yes, yes, no = 3/4.
    assert per_group.tolist() == [[1.0, 0.75], [0.75, 1.0]]
    # worst 0.75 both -> epoch 0 (earliest); dto: both 0.25 -> epoch 0; pareto: g* tie -> group a
    # (the first), best on a -> epoch 0.
    assert [select_epoch(r, overall, per_group) for r in ("worst_group", "dto", "pareto")] == [0, 0, 0]


def test_single_class_group_is_ignored_by_the_group_rules():
    y = np.array([0, 1, 0, 1, 1, 1])
    g = np.array(["a", "a", "a", "a", "b", "b"])  # group b has one class: AUC undefined
    scores = np.array([[0.1, 0.9, 0.2, 0.8, 0.5, 0.5], [0.9, 0.1, 0.2, 0.8, 0.5, 0.5]])
    overall, per_group = val_auc_by_epoch(scores, y, g)
    assert np.isnan(per_group[:, 1]).all()
    assert per_group[0, 0] == 1.0
    for rule in ("worst_group", "dto", "pareto"):
        assert select_epoch(rule, overall, per_group) == 0


def test_no_defined_group_falls_back_to_overall():
    per_group = np.full((3, 2), np.nan)
    overall = np.array([0.6, 0.9, 0.7])
    assert [select_epoch(r, overall, per_group) for r in SELECTIONS] == [1] * len(SELECTIONS)


def test_unknown_criterion():
    with pytest.raises(ValueError, match="valid: overall, worst_group, dto, pareto"):
        select_epoch("best", np.ones(2), np.ones((2, 2)))


def test_config_schema_accepts_every_rule_and_fills_the_hparam_choice_defaults(tmp_path):
    from pathlib import Path

    import yaml

    from fairmedia import config_checks
    from fairmedia.errors import UserError
    from fairmedia.report.hparam_choice import DecisionRule

    schema = Path(__file__).resolve().parents[1] / "workflow" / "schemas" / "config.schema.yaml"
    items = yaml.safe_load(schema.read_text())["properties"]["selections"]["items"]
    assert tuple(items["enum"]) == SELECTIONS
    config = {"datasets": {"d": {"card": "synthetic", "attributes": ["sex"]}}, "archs": ["cnn-small"],
              "methods": ["erm"], "seeds": [0], "selections": list(SELECTIONS)}
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(config))
    board = config_checks.validate_config_file(path)["leaderboard"]
    default = DecisionRule()
    assert (board["hparam_criterion"], board["hparam_utility"], board["hparam_floor"]) == (
        default.criterion, default.utility, default.floor)
    path.write_text(yaml.safe_dump({**config, "selections": ["dto_minmax"]}))
    with pytest.raises(UserError, match="config schema"):
        config_checks.validate_config_file(path)
