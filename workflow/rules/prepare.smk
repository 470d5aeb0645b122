# Prepared-dataset contract (docs/contracts.md, contract 1): metadata.parquet, images.npy, manifest.json.


rule prepare:
    output:
        manifest=f"{PREPARED}/{{dataset}}/manifest.json",
        metadata=f"{PREPARED}/{{dataset}}/metadata.parquet",
        images=f"{PREPARED}/{{dataset}}/images.npy",
    params:
        cli=FAIRMEDIA,
        command=lambda wc: grid.prepare_command(config, wc.dataset, f"{PREPARED}/{wc.dataset}"),
    log:
        "results/logs/prepare/{dataset}.log",
    resources:
        mem_mb=config["resources"]["prepare"]["mem_mb"],
        runtime=config["resources"]["prepare"]["runtime"],
        cpus_per_task=config["resources"]["prepare"]["cpus"],
    shell:
        "{params.cli} {params.command} 2>&1 | tee {log:q}"
