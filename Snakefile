# FairMedIA Bench workflow. Thin on purpose: load and validate the config, include the rules,
# name the final targets. What to build is computed by benchmark/fairmedia/grid.py (unit-tested).
#
#   snakemake --cores 2                                   # the embedded demo (config/config.yaml)
#   snakemake --cores 2 --configfile config/medfair.yaml  # another grid
#   snakemake --workflow-profile workflow/profiles/slurm --configfile config/medfair.yaml

from snakemake.utils import min_version

min_version("9.0")

# `snakemake --report report.html` opens on this description; each output has its own caption.
report: "workflow/report/workflow.rst"

if not config:  # --configfile replaces the demo config instead of being merged into it
    configfile: "config/config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/prepare.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/leaderboard.smk"
include: "workflow/rules/aggregate.smk"
include: "workflow/rules/transfer.smk"
include: "workflow/rules/diagnostics.smk"
include: "workflow/rules/embed.smk"


rule all:
    input:
        leaderboard_targets(),
        grid.transfer_leaderboard_targets(config),
        leaderboard_html_targets(),
    default_target: True


onsuccess:
    print_leaderboards()
