# Out-of-distribution evaluation (config `transfer:`, and each aggregate towards its members):
# a finished run's selected checkpoints score the target's test split; evaluation uses the
# threshold fitted on the source's val split; one leaderboard ranks every direction (docs/ood.md).
import re

TRANSFER = grid.TRANSFER
_TRANSFER_KEYS = "|".join(re.escape(k) for k in config["datasets"]) or "(?!)"
_TRANSFER_RUN = f"{TRANSFER}/{{source}}__to__{{target}}/{{arch}}/{{method}}/{{train_attribute}}/seed{{seed}}"


rule transfer_predict:
    input:
        run=f"{RUNS}/{{source}}/{{arch}}/{{method}}/{{train_attribute}}/seed{{seed}}/run.json",
        target=f"{PREPARED}/{{target}}/manifest.json",
    output:
        predictions=f"{_TRANSFER_RUN}/predictions.parquet",
        info=f"{_TRANSFER_RUN}/transfer.json",
    wildcard_constraints:
        source=_TRANSFER_KEYS,
        target=_TRANSFER_KEYS,
    params:
        cli=FAIRMEDIA,
        run=lambda wc: f"{RUNS}/{wc.source}/{wc.arch}/{wc.method}/{wc.train_attribute}/seed{wc.seed}",
        target=lambda wc: f"{PREPARED}/{wc.target}",
        out=lambda wc: f"{TRANSFER}/{wc.source}__to__{wc.target}/{wc.arch}/{wc.method}/{wc.train_attribute}/seed{wc.seed}",
        maps=lambda wc: grid.transfer_map_args(config, wc.source, wc.target),
        device=config["train"]["device"],
        threads=config["train"]["threads"],
    log:
        f"{_TRANSFER_RUN}/transfer.log",
    resources:
        gpu=lambda wc: grid.transfer_resources(config, wc.source, wc.arch, 1)["gpu"],
        cpus_per_task=lambda wc: grid.transfer_resources(config, wc.source, wc.arch, 1)["cpus"],
        mem_mb=lambda wc: grid.transfer_resources(config, wc.source, wc.arch, 1)["mem_mb"],
        runtime=lambda wc, attempt: grid.transfer_resources(config, wc.source, wc.arch, attempt)["runtime"],
    shell:
        "{params.cli} transfer predict {params.run:q} --target {params.target:q} --out {params.out:q} "
        "{params.maps} --device {params.device:q} --threads {params.threads:q} > {log:q} 2>&1"


rule transfer_evaluate:
    input:
        predictions=f"{_TRANSFER_RUN}/predictions.parquet",
    output:
        metrics=f"{_TRANSFER_RUN}/eval/{{attribute}}/{{selection}}/metrics.json",
        scored=f"{_TRANSFER_RUN}/eval/{{attribute}}/{{selection}}/scored.parquet",
    wildcard_constraints:
        source=_TRANSFER_KEYS,
        target=_TRANSFER_KEYS,
    params:
        cli=FAIRMEDIA,
        dir=lambda wc: f"{TRANSFER}/{wc.source}__to__{wc.target}/{wc.arch}/{wc.method}/{wc.train_attribute}/seed{wc.seed}",
        out=f"{_TRANSFER_RUN}/eval/{{attribute}}/{{selection}}",
        bootstrap=config["evaluation"]["bootstrap"],
        threshold=config["evaluation"]["threshold"],
        min_group_size=config["evaluation"]["min_group_size"],
    log:
        f"{_TRANSFER_RUN}/eval/{{attribute}}/{{selection}}/evaluate.log",
    group:
        "evaluate"
    resources:
        mem_mb=2000,
        runtime=15,
    shell:
        "{params.cli} transfer evaluate {params.dir:q} --attribute {wildcards.attribute:q} "
        "--selection {wildcards.selection:q} --out-dir {params.out:q} "
        "--bootstrap {params.bootstrap:q} --threshold {params.threshold:q} "
        "--min-group-size {params.min_group_size:q} > {log:q} 2>&1"


# The dataset column of this table is the direction {source}__to__{target}: each direction is a cell
# of its own, ranked and significance-tested like an in-distribution dataset.
rule transfer_leaderboard:
    input:
        lambda wc: grid.transfer_metrics_targets(config, wc.selection),
    output:
        md=f"{grid.TRANSFER_LEADERBOARD}/{{selection}}/leaderboard.md",
        csv=f"{grid.TRANSFER_LEADERBOARD}/{{selection}}/leaderboard.csv",
        tex=f"{grid.TRANSFER_LEADERBOARD}/{{selection}}/leaderboard.tex",
        significance=f"{grid.TRANSFER_LEADERBOARD}/{{selection}}/significance.csv",
        ranks=f"{grid.TRANSFER_LEADERBOARD}/{{selection}}/ranks.csv",
    params:
        cli=FAIRMEDIA,
        runs=TRANSFER,
        out=f"{grid.TRANSFER_LEADERBOARD}/{{selection}}",
        metrics=config["leaderboard"]["metrics"],
        bootstrap=config["leaderboard"]["bootstrap"],
        correction=config["leaderboard"]["correction"],
        baseline=config["baseline"],
        figures="" if config["leaderboard"]["figures"] else "--no-figures",
        listing=f"{grid.TRANSFER_LEADERBOARD}/{{selection}}/inputs.txt",
    log:
        "results/logs/leaderboard/transfer-{selection}.log",
    threads: 2
    resources:
        mem_mb=4000,
        runtime=30,
    run:
        grid.write_listing(params.listing, input)
        shell(
            "{params.cli} leaderboard --runs {params.runs:q} --selection {wildcards.selection:q} "
            "--out {params.out:q} --include-from {params.listing:q} --metrics {params.metrics:q} "
            "--bootstrap {params.bootstrap:q} --correction {params.correction:q} "
            "--baseline {params.baseline:q} --jobs {threads} {params.figures} --quiet > {log:q} 2>&1"
        )
