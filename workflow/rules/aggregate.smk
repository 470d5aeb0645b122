# Aggregated datasets (config `aggregate:`): the union of several prepared datasets, written
# through the prepared-dataset contract from its members' prepared folders (docs/ood.md).
import re

AGGREGATES = list(config.get("aggregate") or {})  # dataset keys too (common.smk merged them)


rule aggregate:
    input:
        lambda wc: [f"{layout.prepared_dir(m)}/{layout.MANIFEST}" for m in config["aggregate"][wc.dataset]["datasets"]],
    output:
        manifest=f"{PREPARED_DIR}/{layout.MANIFEST}",
        metadata=f"{PREPARED_DIR}/{layout.METADATA}",
        images=f"{PREPARED_DIR}/{layout.IMAGES}",
    wildcard_constraints:
        dataset="|".join(re.escape(a) for a in AGGREGATES) or "(?!)",
    params:
        command=lambda wc: grid.aggregate_command(config, wc.dataset, layout.prepared_dir(wc.dataset)),
    log:
        layout.log_file("aggregate", "{dataset}"),
    conda:
        "../envs/fairmedia.yaml"
    resources:
        mem_mb=config["resources"]["prepare"]["mem_mb"],
        runtime=config["resources"]["prepare"]["runtime"],
    shell:
        f"{FAIRMEDIA} {{params.command}} > {{log:q}} 2>&1"


ruleorder: aggregate > prepare
