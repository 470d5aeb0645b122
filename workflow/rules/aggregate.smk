# Aggregated datasets (config `aggregate:`): the union of several prepared datasets, written
# through the prepared-dataset contract from its members' prepared folders (docs/ood.md).
import re

# After the checks in common.smk: each aggregate becomes a dataset key, so the train, evaluate
# and leaderboard rules cover it like any other dataset.
grid.merge_aggregates(config)
AGGREGATES = list(config.get("aggregate") or {})


rule aggregate:
    input:
        lambda wc: [f"{PREPARED}/{m}/manifest.json" for m in config["aggregate"][wc.dataset]["datasets"]],
    output:
        manifest=f"{PREPARED}/{{dataset}}/manifest.json",
        metadata=f"{PREPARED}/{{dataset}}/metadata.parquet",
        images=f"{PREPARED}/{{dataset}}/images.npy",
    wildcard_constraints:
        dataset="|".join(re.escape(a) for a in AGGREGATES) or "(?!)",
    params:
        cli=FAIRMEDIA,
        command=lambda wc: grid.aggregate_command(config, wc.dataset, f"{PREPARED}/{wc.dataset}"),
    log:
        "results/logs/aggregate/{dataset}.log",
    resources:
        mem_mb=config["resources"]["prepare"]["mem_mb"],
        runtime=config["resources"]["prepare"]["runtime"],
    shell:
        "{params.cli} {params.command} > {log:q} 2>&1"


ruleorder: aggregate > prepare
