"""Coverage of the fairness report's bootstrap intervals on simulated data with a known truth.

    python -m fairmedia.stats.ci_coverage --sims 200 --patients 250 --boot 200

Model (per patient: sex F/M with probability 1/2, label y ~ Bernoulli(prevalence), 1 + Poisson(1.4)
images; per image: logit = d_sex * y + b_patient + e_image, b ~ N(0, 0.8), e ~ N(0, 0.4), score =
sigmoid(logit), decision = score >= 0.5). The truth is the population value, in closed form: with
s^2 = 0.8 + 0.4 a positive image of group g and a negative of group h differ by N(d_g, 2 s^2), so
AUC_g = Phi(d_g / (s sqrt 2)), overall AUC = mean_g AUC_g (equal group shares among positives),
TPR_g = Phi(d_g / s); ``test_ci_coverage`` checks it against a large simulated population.

Each data set is resampled exactly as ``fairmedia evaluate --bootstrap`` does (patients within
label strata for the overall AUC, within label x sex for the sex measures:
``metrics.scoped_bootstrap``) and three 95 % intervals are built from the same replicates:
percentile; basic (2 t - q_hi, 2 t - q_lo); BCa (Efron 1987, "Better bootstrap confidence
intervals", JASA 82:171-185) with the bias correction z0 from the replicates and the acceleration
from the leave-one-patient-out jackknife (clusters, as Davison & Hinkley 1997 §3.8 recommend for
clustered data). Coverage is the share of data sets whose interval holds the truth, with its
Clopper-Pearson 95 % interval (scipy ``binomtest``).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from fairmedia.metrics.bootstrap import ClusteredResampler, percentile_ci
from fairmedia.metrics.groups import build_groupings
from fairmedia.metrics.scoped_bootstrap import jackknife, replicates, resamplers, scope_statistics
from fairmedia.progress import progress

MEASURES = {
    "overall AUC": ("overall", "auc"),
    "AUC gap (sex)": ("attributes", "sex", "disparity", "auc", "gap"),
    "equal opportunity (TPR gap, sex)": ("attributes", "sex", "criteria", "equal_opportunity"),
    "TPR of F": ("attributes", "sex", "groups", "F", "tpr"),
}
METHODS = ("percentile", "basic", "BCa")
JOINT = "percentile, old joint strata"
VAR_PATIENT, VAR_IMAGE = 0.8, 0.4


@dataclass
class Model:
    d_f: float = 1.0
    d_m: float = 1.4
    prevalence: float = 0.4

    def truth(self) -> dict[str, float]:
        s = np.sqrt(VAR_PATIENT + VAR_IMAGE)
        auc = {g: stats.norm.cdf(d / (s * np.sqrt(2))) for g, d in (("F", self.d_f),
                                                                   ("M", self.d_m))}
        tpr = {g: stats.norm.cdf(d / s) for g, d in (("F", self.d_f), ("M", self.d_m))}
        return {"overall AUC": (auc["F"] + auc["M"]) / 2,
                "AUC gap (sex)": abs(auc["F"] - auc["M"]),
                "equal opportunity (TPR gap, sex)": abs(tpr["F"] - tpr["M"]),
                "TPR of F": tpr["F"]}

    def sample(self, rng: np.random.Generator, n_patients: int) -> pd.DataFrame:
        sex = rng.choice(["F", "M"], n_patients)
        y = (rng.random(n_patients) < self.prevalence).astype(np.int8)
        images = 1 + rng.poisson(1.4, n_patients)
        b = rng.normal(0, np.sqrt(VAR_PATIENT), n_patients)
        patient = np.repeat(np.arange(n_patients), images)
        d = np.where(sex == "F", self.d_f, self.d_m)
        logit = (d * y + b)[patient] + rng.normal(0, np.sqrt(VAR_IMAGE), len(patient))
        score = 1 / (1 + np.exp(-logit))
        return pd.DataFrame({"patient_id": patient, "sex": sex[patient], "y": y[patient],
                             "score": score, "decision": (score >= 0.5).astype(np.int8)})


def bca_interval(estimate: float, boot: np.ndarray, jack: np.ndarray,
                 level: float = 0.95) -> tuple[float, float]:
    """BCa interval (Efron 1987) from bootstrap replicates and jackknife values of a statistic.

    z0 = Phi^-1(share of replicates below the estimate, ties counted half) and
    a = sum(u^3) / (6 (sum u^2)^1.5) with u = mean(jack) - jack; the interval is the replicates'
    quantiles at Phi(z0 + (z0 + z) / (1 - a (z0 + z))) for z = z_(alpha/2), z_(1-alpha/2)."""
    boot, jack = boot[np.isfinite(boot)], jack[np.isfinite(jack)]
    if boot.size == 0 or jack.size < 2:
        return np.nan, np.nan
    below = (np.sum(boot < estimate) + 0.5 * np.sum(boot == estimate)) / boot.size
    z0 = stats.norm.ppf(np.clip(below, 1 / (2 * boot.size), 1 - 1 / (2 * boot.size)))
    u = jack.mean() - jack
    denom = 6 * np.sum(u ** 2) ** 1.5
    a = np.sum(u ** 3) / denom if denom > 0 else 0.0
    z = stats.norm.ppf([(1 - level) / 2, (1 + level) / 2])
    alpha = stats.norm.cdf(z0 + (z0 + z) / (1 - a * (z0 + z)))
    low, high = np.quantile(boot, alpha)
    return float(low), float(high)


def intervals(estimate: float, boot: np.ndarray, jack: np.ndarray,
              level: float = 0.95) -> dict[str, tuple[float, float]]:
    """Percentile, basic and BCa intervals from the same replicates."""
    finite = boot[np.isfinite(boot)]
    q_lo, q_hi = np.quantile(finite, [(1 - level) / 2, (1 + level) / 2])
    return {"percentile": (float(q_lo), float(q_hi)),
            "basic": (float(2 * estimate - q_hi), float(2 * estimate - q_lo)),
            "BCa": bca_interval(estimate, boot, jack, level)}


def _joint_strata_percentile(df: pd.DataFrame, statistics, n_extra: int, n_boot: int,
                             seed: int) -> dict[tuple, tuple[float, float]]:
    """The percentile intervals of the old strata: patients within the joint cell of sex and
    ``n_extra`` outcome-unrelated attributes (4-7 levels each) x label, for every scope."""
    rng = np.random.default_rng([seed, 2])
    patients = df["patient_id"].to_numpy()
    extra = [rng.integers(0, rng.integers(4, 8), patients.max() + 1)[patients]
             for _ in range(n_extra)]
    _, sex = np.unique(df["sex"].to_numpy(), return_inverse=True)
    _, cell = np.unique(np.stack([sex, *extra], axis=1), axis=0, return_inverse=True)
    resampler = ClusteredResampler(cell.reshape(-1) * 2 + df["y"].to_numpy(), patients)
    out = {}
    for scope, stats_ in statistics:
        chunks: dict[tuple, list] = {}
        for weights in resampler.blocks(n_boot, seed):
            for path, values in stats_.compute(weights).items():
                if path[:len(scope)] == scope:
                    chunks.setdefault(path, []).append(values)
        for path, values in chunks.items():
            low, high = percentile_ci(np.concatenate(values))
            out[path] = (float(low), float(high))
    return out


def one_data_set(model: Model, seed: int, n_patients: int, n_boot: int,
                 joint_attributes: int = 0) -> dict:
    """Estimates and intervals of every measure on one simulated data set; with
    ``joint_attributes`` also the percentile interval under the old joint strata."""
    df = model.sample(np.random.default_rng([seed, 1]), n_patients)
    y, score, decision = (df[c].to_numpy() for c in ("y", "score", "decision"))
    groupings = build_groupings(df, ["sex"], intersect_pairs=False, bins=None, source="sim")
    eligible = {"sex": np.array([True, True])}
    statistics = scope_statistics(groupings, eligible, (y, score, decision))
    by_scope = resamplers(groupings, y, df, "sim")
    boot = replicates(statistics, by_scope, n_boot, seed)
    jack = jackknife(statistics, by_scope)
    point = {}
    for scope, stats_ in statistics:
        point.update({p: float(v[0]) for p, v in stats_.compute().items() if p[:len(scope)] == scope})
    out = {name: {"estimate": point[path], **intervals(point[path], boot[path], jack[path])}
           for name, path in MEASURES.items()}
    if joint_attributes:
        joint = _joint_strata_percentile(df, statistics, joint_attributes, n_boot, seed)
        for name, path in MEASURES.items():
            out[name][JOINT] = joint[path]
    return out


def coverage(model: Model, sims: int, n_patients: int, n_boot: int, seed: int = 0,
             joint_attributes: int = 0) -> dict:
    """Per measure and method: coverage, its Clopper-Pearson 95 % interval, mean width."""
    truth = model.truth()
    runs = [one_data_set(model, seed * 100_003 + k, n_patients, n_boot, joint_attributes)
            for k in progress(range(sims), total=sims, desc="simulations", unit="data set")]
    table: dict = {}
    for name in MEASURES:
        table[name] = {"truth": truth[name]}
        for method in _methods(runs):
            ci = np.array([r[name][method] for r in runs])
            hit = int(np.sum((ci[:, 0] <= truth[name]) & (truth[name] <= ci[:, 1])))
            bounds = stats.binomtest(hit, sims).proportion_ci(0.95)
            table[name][method] = {"coverage": hit / sims,
                                   "coverage_ci": [bounds.low, bounds.high],
                                   "mean_width": float(np.mean(ci[:, 1] - ci[:, 0]))}
    return table


def _methods(runs_or_row) -> list[str]:
    first = runs_or_row[0][next(iter(MEASURES))] if isinstance(runs_or_row, list) else runs_or_row
    return [m for m in (*METHODS, JOINT) if m in first]


def to_markdown(table: dict) -> str:
    methods = _methods(next(iter(table.values())))
    head = "| measure (truth) | " + " | ".join(methods) + " |"
    lines = [head, "|---|" + ":---:|" * len(methods)]
    for name, row in table.items():
        cells = [f"{row[m]['coverage']:.1%} [{row[m]['coverage_ci'][0]:.0%}–"
                 f"{row[m]['coverage_ci'][1]:.0%}], w {row[m]['mean_width']:.3f}"
                 for m in methods]
        lines.append(f"| {name} ({row['truth']:.3f}) | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--sims", type=int, default=200, help="simulated data sets")
    parser.add_argument("--patients", type=int, default=250, help="patients per data set")
    parser.add_argument("--boot", type=int, default=200, help="bootstrap resamples per data set")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--d-f", type=float, default=1.0, help="separation of group F")
    parser.add_argument("--d-m", type=float, default=1.4, help="separation of group M")
    parser.add_argument("--joint-attributes", type=int, default=0,
                        help="also the old strata: joint cell of sex and this many "
                             "outcome-unrelated attributes x label")
    parser.add_argument("--json", help="also write the table as JSON here")
    args = parser.parse_args(argv)
    model = Model(d_f=args.d_f, d_m=args.d_m)
    table = coverage(model, args.sims, args.patients, args.boot, args.seed,
                     args.joint_attributes)
    print(to_markdown(table))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(table, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
