"""The leaderboard rule's script: write the rule's inputs to the ``--include-from`` listing (only
this config's runs enter a table), then run ``fairmedia leaderboard`` on them."""

import sys
from pathlib import Path

from fairmedia import layout
from fairmedia.cli import main

smk = snakemake  # noqa: F821 - injected by Snakemake's script directive
listing = Path(smk.params.out) / layout.LEADERBOARD_INPUTS
listing.parent.mkdir(parents=True, exist_ok=True)
listing.write_text("".join(f"{f}\n" for f in smk.input.metrics))
args = ["leaderboard", "--runs", smk.params.runs, "--selection", smk.wildcards.selection,
        "--out", smk.params.out, "--include-from", str(listing), "--metrics", *smk.params.metrics,
        "--bootstrap", str(smk.params.bootstrap), "--correction", smk.params.correction,
        "--baseline", smk.params.baseline, "--jobs", str(smk.threads), "--quiet",
        "--hparam-criterion", smk.params.hparam_criterion, "--hparam-utility",
        smk.params.hparam_utility, "--hparam-floor", str(smk.params.hparam_floor),
        "--effect-size", str(smk.params.effect_size), "--separability", *smk.input.separability]
args += [smk.params.figures] if smk.params.figures else []
with open(smk.log[0], "w") as log:
    sys.stdout = sys.stderr = log
    code = main(args)
sys.exit(code)
