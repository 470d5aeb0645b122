"""``fairmedia robustness``: Kendall τ of method rankings across selection rules and seed
resamples, and the minimum detectable Δ vs the baseline per cell (power)."""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "robustness"
HELP = "how robust the method ranking is (selection rules, seeds) and each cell's detectable Δ"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--runs", default="results/runs", help="runs folder (default: results/runs)")
    p.add_argument("--metric", required=True, help="metric to rank by, e.g. auc_worst")
    p.add_argument("--selections", nargs="+",
                   help="selection rules to compare (default: all found under --runs)")
    p.add_argument("--n-boot", type=int, default=200, help="seed-bootstrap replicates (200)")
    p.add_argument("--seed", type=int, default=0, help="random seed of the seed bootstrap (0)")
    p.add_argument("--baseline", default="erm", help="baseline of Δ for the power table (erm)")
    p.add_argument("--significance", nargs="+", default=[],
                   help="leaderboard significance.csv file(s): adds the bootstrap-based MDΔ")
    p.add_argument("--alpha", type=float, default=0.05)
    p.add_argument("--power", type=float, default=0.8)
    p.add_argument("--alpha-adjust", choices=["none", "holm"], default="none",
                   help="holm: α/m, the strictest Holm step over the m methods of a table")
    p.add_argument("--effect", type=float, default=0.02,
                   help="effect size |Δ| to call detectable (default 0.02)")
    p.add_argument("--out", required=True, help="folder for robustness.csv/.md and power.csv")


def _significance(paths: list[str]):
    import pandas as pd

    from fairmedia.errors import UserError

    frames = []
    for path in paths:
        try:
            frames.append(pd.read_csv(path))
        except (OSError, pd.errors.ParserError) as err:
            raise UserError(f"--significance {path}: cannot read as CSV ({err})") from err
    return pd.concat(frames, ignore_index=True) if frames else None


def run(args: argparse.Namespace) -> int:
    import pandas as pd

    from fairmedia.diagnostics.power import power_table
    from fairmedia.diagnostics.robustness import check_long, seed_bootstrap, selection_pairs
    from fairmedia.diagnostics.robustness_report import power_markdown, robustness_markdown
    from fairmedia.errors import UserError
    from fairmedia.report.collect import collect

    rows = check_long(collect(args.runs), args.metric, args.runs)
    present = sorted(rows["selection"].unique())
    selections = args.selections or present
    unknown = [s for s in selections if s not in present]
    if unknown:
        raise UserError(f"--selections: {', '.join(unknown)} not found under {args.runs} "
                        f"for {args.metric!r}; present: {', '.join(present)}")
    rows = rows[rows["selection"].isin(selections)]
    # Pairs only when there are two rules; asking for them explicitly with one is an error.
    pairs = (selection_pairs(rows, args.metric, selections)
             if len(selections) > 1 or args.selections else None)
    boot = seed_bootstrap(rows, args.metric, selections, args.n_boot, args.seed)
    power = power_table(rows, args.metric, args.baseline, _significance(args.significance),
                        args.alpha, args.power, args.effect, args.alpha_adjust)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    pd.concat([t for t in (pairs, boot) if t is not None and not t.empty],
              ignore_index=True).to_csv(out / "robustness.csv", index=False)
    power.to_csv(out / "power.csv", index=False)
    text = robustness_markdown(pairs, boot, args.metric) + "\n" + power_markdown(power,
                                                                                 args.baseline)
    (out / "robustness.md").write_text(text)
    print(text, end="")
    return 0
