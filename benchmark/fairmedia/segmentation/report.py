"""The segmentation fairness report: per attribute and class, per-group metrics, disparities,
equity-scaled scores, size-stratified Dice and the region-map figure; and its Markdown form."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from fairmedia.errors import UserError
from fairmedia.segmentation.case_metrics import DEFAULT_NSD_TOLERANCE, case_metrics, normalise_classes
from fairmedia.segmentation.group_metrics import attribute_report
from fairmedia.segmentation.mask_folder import mask_pairs, read_metadata
from fairmedia.segmentation.region_maps import GroupErrorMaps, plot_region_maps
from fairmedia.segmentation.size_strata import stratified_dice

# columns of the per-case table (case_metrics): an attribute may not take one of these names
RESERVED = ("case_id", "class", "dice", "hd95", "nsd", "ref_voxels", "pred_voxels", "ref_volume",
            "empty")


def segmentation_report(
    cases: pd.DataFrame,
    attributes: Sequence[str],
    *,
    patient_col: str | None = "patient_id",
    bootstrap: int = 0,
    seed: int = 0,
    min_group_size: int = 1,
    n_strata: int = 3,
) -> dict[str, object]:
    """The report's per-attribute part from the per-case table (``cases_table``) joined with
    the metadata columns (``patient_col`` and the attributes)."""
    empty = cases.groupby(["class", "empty"]).size()
    return {
        "n_cases": int(cases["case_id"].nunique()),
        "empty_masks": {str(c): {k or "none": int(v) for k, v in empty[c].items()}
                        for c in cases["class"].unique()},
        "attributes": {a: {"groups": attribute_report(cases, a, patient_col=patient_col,
                                                      bootstrap=bootstrap, seed=seed,
                                                      min_group_size=min_group_size),
                           "size_stratified_dice": stratified_dice(cases, a, n_strata=n_strata)}
                       for a in attributes},
    }


def evaluate_mask_folders(
    pred_dir: Path,
    ref_dir: Path,
    metadata: Path,
    attributes: Sequence[str],
    classes: Mapping[str, int | Sequence[int]],
    *,
    case_col: str = "case_id",
    patient_col: str | None = "patient_id",
    pixel_spacing: bool = False,
    nsd_tolerance: float = DEFAULT_NSD_TOLERANCE,
    bootstrap: int = 0,
    seed: int = 0,
    min_group_size: int = 1,
    n_strata: int = 3,
    map_grid: Sequence[int] | None = None,
    figure_dir: Path | None = None,
) -> tuple[dict[str, object], pd.DataFrame]:
    """Evaluate every case of ``metadata``: the report and the per-case table. Masks are read
    once; region maps accumulate on the way. ``pixel_spacing`` ignores NIfTI voxel sizes."""
    classes = normalise_classes(classes)
    taken = set(RESERVED) | ({"patient_id"} if patient_col else set())
    clash = sorted(taken.intersection(attributes))
    if clash:
        raise UserError(f"--attr {', '.join(clash)}: the name of a report column; rename the "
                        "metadata column")
    # optional under its default name, as in `fairmedia evaluate`; a name given must exist
    meta = read_metadata(metadata, case_col=case_col, patient_col=patient_col,
                         attributes=attributes, patient_optional=patient_col == "patient_id")
    if patient_col not in meta.columns:
        patient_col = None
    labels = {v for values in classes.values() for v in values}
    maps = {(a, c): GroupErrorMaps(v, map_grid) for a in attributes for c, v in classes.items()}
    group_of = {a: meta.set_index(case_col)[a] for a in attributes}
    rows, units = [], set()
    for case, pred, ref, spacing in mask_pairs(pred_dir, ref_dir, list(meta[case_col]),
                                               labels=labels):
        spacing = None if pixel_spacing else spacing
        units.add("pixels" if spacing is None else "header spacing")
        rows += case_metrics(pred, ref, classes, spacing=spacing, nsd_tolerance=nsd_tolerance,
                             case_id=case)
        for (a, _), acc in maps.items():
            if pd.notna(group_of[a][case]):
                acc.add(str(group_of[a][case]), pred, ref, case)
    if not rows:
        raise UserError(f"{metadata}: no cases")
    # only the needed metadata columns, renamed to the names the report reads
    columns = {case_col: "case_id", **({patient_col: "patient_id"} if patient_col else {})}
    columns.update({a: a for a in attributes})
    cases = pd.DataFrame(rows).merge(meta[list(columns)].rename(columns=columns), on="case_id",
                                     how="left")
    report = {
        "source": {"predictions": str(pred_dir), "references": str(ref_dir),
                   "metadata": str(metadata)},
        "classes": {c: list(v) for c, v in classes.items()},
        "distance_units": " and ".join(sorted(units)),
        "nsd_tolerance": nsd_tolerance,
        "bootstrap": bootstrap,
        "bootstrap_unit": "patient" if patient_col else "case (no patient column)",
        **segmentation_report(cases, attributes, patient_col="patient_id" if patient_col else None,
                              bootstrap=bootstrap, seed=seed, min_group_size=min_group_size,
                              n_strata=n_strata),
    }
    if figure_dir is not None:
        report["figures"] = _figures(report, maps, figure_dir)
    return report, cases


def _figures(report: dict, maps: dict, figure_dir: Path) -> list[str]:
    figure_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for (attr, name), acc in maps.items():
        dice = report["attributes"][attr]["groups"][name]["dice"]["disparities"]
        if dice["n_groups"] < 2:
            continue
        paths = plot_region_maps(acc.maps(), dice["worst"], dice["best"],
                                 figure_dir / _safe(f"region_map_{attr}_{name}"),
                                 title=f"{name}: per-pixel error rate by {attr}")
        written += [str(p) for p in paths]
    return written


def _safe(stem: str) -> str:
    """A file name from attribute and class names, which may hold any character."""
    return re.sub(r"[^\w.-]+", "_", stem)


def _fmt(entry: Mapping[str, object] | None) -> str:
    if not entry or entry.get("value") is None:
        return "—"
    text = f"{entry['value']:.3f}"
    if entry.get("ci"):
        text += f" [{entry['ci'][0]:.3f}, {entry['ci'][1]:.3f}]"
    return text


def render_markdown(report: Mapping[str, object]) -> str:
    """Per attribute and class: a per-group table (Dice, HD95, NSD) and a disparity table."""
    lines = ["# Segmentation fairness report", "",
             f"{report.get('n_cases')} cases; distances in {report.get('distance_units')}; "
             f"NSD tolerance {report.get('nsd_tolerance')}; bootstrap {report.get('bootstrap')} "
             f"resamples (95 % CIs, resampling unit: {report.get('bootstrap_unit')}).", ""]
    for attr, part in report["attributes"].items():
        for name, metrics in part["groups"].items():
            lines += [f"## {attr} — {name}", "", "| group | cases | Dice ↑ | HD95 ↓ | NSD ↑ |",
                      "| --- | --- | --- | --- | --- |"]
            for k, row in enumerate(metrics["dice"]["groups"]):
                cells = [_fmt(metrics[m]["groups"][k]) for m in ("dice", "hd95", "nsd")]
                mark = " (small)" if row["small"] else ""
                lines.append(f"| {row['group']}{mark} | {row['n_cases']} | " + " | ".join(cells)
                             + " |")
            lines.append("| all | | " + " | ".join(_fmt(metrics[m]["overall"])
                                                 for m in ("dice", "hd95", "nsd")) + " |")
            lines += ["", "| metric | worst | gap | ratio | ES (FairSeg) | ES (FairMedFM) |",
                      "| --- | --- | --- | --- | --- | --- |"]
            for m in ("dice", "hd95", "nsd"):
                d = metrics[m]["disparities"]
                lines.append(f"| {m} | {d.get('worst', '—')} | {_fmt(d.get('gap'))} | "
                             f"{_fmt(d.get('ratio'))} | {_fmt(d.get(f'es_{m}_fairseg'))} | "
                             f"{_fmt(d.get(f'es_{m}_fairmedfm'))} |")
            strata = part["size_stratified_dice"][name]
            lines += ["", "Size-stratified Dice (reference-size quantile strata on all cases):", "",
                      "| group | " + " | ".join(strata["strata"]) + " | size-standardised |",
                      "| --- " * (len(strata["strata"]) + 2) + "|"]
            for g in strata["groups"]:
                by = {c["stratum"]: f"{c['dice']:.3f} (n={c['n']})" for c in g["strata"]}
                std = g["standardised_dice"]
                lines.append(f"| {g['group']} | " + " | ".join(by.get(s, "—")
                                                              for s in strata["strata"])
                             + f" | {'—' if std is None else f'{std:.3f}'} |")
            lines.append("")
    for path in report.get("figures", []):
        if path.endswith(".png"):
            lines.append(f"![region map]({Path(path).name})")
    return "\n".join(lines) + "\n"
