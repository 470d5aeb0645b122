"""The fairness report's bootstrap: one resampling scope per reported attribute, and overall.

Scopes (``scopes``): the overall statistics are resampled within label strata; each reported
attribute's (or intersection's) groups, disparities and criteria within label x that attribute's
group strata, from its own random stream. Strata of all evaluated attributes jointly would make a
CI depend on which other attributes are evaluated and, with many one-patient strata (which
contribute no variance; Rao & Wu 1988), shrink it. ``replicates`` gives every path's bootstrap
replicates, ``jackknife`` its leave-one-patient-out values (for BCa, ``stats.ci_coverage``).
"""

from __future__ import annotations

import zlib
from collections import defaultdict

import numpy as np

from fairmedia.errors import UserError
from fairmedia.metrics.bootstrap import ClusteredResampler
from fairmedia.metrics.group_table import COUNT_COLUMNS
from fairmedia.metrics.groups import Grouping
from fairmedia.metrics.report_numbers import FairnessStatistics
from fairmedia.progress import progress

Scope = tuple[str, ...]
# What report["bootstrap"]["strata"] says (docs/metrics.md).
STRATA = ("per reported attribute: label x that attribute's group (missing its own group); "
          "overall statistics: label")
OVERALL: Scope = ("overall",)


def scopes(groupings: list[Grouping]) -> list[tuple[Scope, Grouping]]:
    """The report's resampling scopes: the overall statistics (strata = label; a one-group
    grouping stands for "no attribute") and each reported attribute or intersection (strata =
    label x that attribute's group, missing being its own group)."""
    n = len(groupings[0].codes)
    everyone = Grouping("overall", ["all"], np.zeros(n, dtype=np.int64))
    return [(OVERALL, everyone)] + [(("attributes", g.name), g) for g in groupings]


def scope_seed(seed: int, scope: Scope) -> list[int]:
    """A scope's own random stream: its CIs do not depend on which other scopes exist."""
    return [int(seed), zlib.crc32("/".join(scope).encode())]


def resamplers(groupings, y_e, eval_df, source) -> dict[Scope, ClusteredResampler]:
    """One resampler per scope (``scopes``; why per scope: the module docstring): patients (rows
    without patient_id) drawn within label x group strata of *that* scope only. A ``UserError``
    when a scope has no stratum with two patients, since every resample would then be the data
    itself."""
    clusters = eval_df["patient_id"].to_numpy() if "patient_id" in eval_df.columns else None
    out = {}
    for scope, grouping in scopes(groupings):
        resampler = ClusteredResampler(grouping.codes * 2 + y_e, clusters)
        if all(len(members) < 2 for members in resampler.members):
            unit = "patient (patient_id)" if clusters is not None else "row (no patient_id column)"
            where = "label" if scope == OVERALL else f"{grouping.name} group x label"
            raise UserError(
                f"{source}: --bootstrap resamples patients within each {where} stratum, but no "
                f"such stratum of the {len(y_e)} evaluated rows holds more than one {unit}; "
                f"{resampler.n_clusters} in all. Every resample would be identical and each CI "
                "would have zero width: bootstrap CIs need at least 2 patients in a stratum. "
                "Check the patient_id column (the same value in every row?) or run without "
                "--bootstrap"
            )
        out[scope] = resampler
    return out


def scope_statistics(groupings: list[Grouping], eligible: dict[str, np.ndarray],
                     data: tuple[np.ndarray, np.ndarray, np.ndarray],
                     privileged: dict[str, int] | None = None,
                     ) -> list[tuple[Scope, FairnessStatistics]]:
    """A ``FairnessStatistics`` of each scope's grouping alone (``data`` = y, score, decision):
    one weighted pass over the rows per scope and block; the paths outside the scope that it also
    computes (e.g. the overall ones of an attribute scope) are dropped by ``_keep``."""
    out = []
    for scope, grouping in scopes(groupings):
        scope_eligible = {grouping.name: eligible.get(grouping.name, np.ones(1, bool))}
        scope_privileged = {k: v for k, v in (privileged or {}).items() if k == grouping.name}
        out.append((scope, FairnessStatistics(*data, [grouping], scope_eligible,
                                               scope_privileged)))
    return out


def _keep(scope: Scope, values: dict[tuple, np.ndarray]) -> dict[tuple, np.ndarray]:
    return {path: v for path, v in values.items()
            if path[:len(scope)] == scope and path[-1] not in COUNT_COLUMNS}


def replicates(statistics: list[tuple[Scope, FairnessStatistics]],
               resamplers_by_scope: dict[Scope, ClusteredResampler], n_boot: int, seed: int,
               ) -> dict[tuple, np.ndarray]:
    """Every path's ``n_boot`` bootstrap replicates, each scope from its own resamples."""
    samples: dict[tuple, list[np.ndarray]] = defaultdict(list)
    streams = [(scope, stats, resamplers_by_scope[scope].blocks(n_boot, scope_seed(seed, scope)))
               for scope, stats in statistics]
    with progress(total=n_boot, desc="bootstrap", unit="resample") as bar:
        done = 0
        while done < n_boot:
            for scope, stats, blocks in streams:
                weights = next(blocks)
                for path, values in _keep(scope, stats.compute(weights)).items():
                    samples[path].append(values)
            done += weights.shape[1]
            bar.update(weights.shape[1])
    return {path: np.concatenate(chunks) for path, chunks in samples.items()}


def jackknife(statistics: list[tuple[Scope, FairnessStatistics]],
              resamplers_by_scope: dict[Scope, ClusteredResampler], block: int = 50
              ) -> dict[tuple, np.ndarray]:
    """Every path's leave-one-cluster-out values (n_clusters,), for the BCa acceleration."""
    out: dict[tuple, list[np.ndarray]] = defaultdict(list)
    for scope, stats in statistics:
        cluster_of_row = resamplers_by_scope[scope].cluster_of_row
        n_clusters = resamplers_by_scope[scope].n_clusters
        for start in range(0, n_clusters, block):
            left_out = np.arange(start, min(start + block, n_clusters))
            weights = (cluster_of_row[:, None] != left_out[None, :]).astype(float)
            for path, values in _keep(scope, stats.compute(weights)).items():
                out[path].append(values)
    return {path: np.concatenate(chunks) for path, chunks in out.items()}
