# Prepared-dataset contract (docs/contracts.md, contract 1): metadata.parquet, images.npy, manifest.json.


rule prepare:
    input:
        # nothing for a card's dataset; the base's manifest for a derived (`inject:`) one
        lambda wc: grid.prepare_inputs(config, wc.dataset),
    output:
        manifest=f"{PREPARED_DIR}/{layout.MANIFEST}",
        metadata=f"{PREPARED_DIR}/{layout.METADATA}",
        images=f"{PREPARED_DIR}/{layout.IMAGES}",
    params:
        command=lambda wc: grid.prepare_command(config, wc.dataset, layout.prepared_dir(wc.dataset)),
    log:
        layout.log_file("prepare", "{dataset}"),
    conda:
        "../envs/fairmedia.yaml"
    resources:
        mem_mb=config["resources"]["prepare"]["mem_mb"],
        runtime=config["resources"]["prepare"]["runtime"],
        cpus_per_task=config["resources"]["prepare"]["cpus"],
    shell:
        f"{FAIRMEDIA} {{params.command}} 2>&1 | tee {{log:q}}"
