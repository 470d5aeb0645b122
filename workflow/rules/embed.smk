# Embedding-cache contract (docs/contracts.md, contract 7): one prepared dataset's image embeddings
# under one foundation-model backbone (docs/foundation.md). No target asks for it yet: request
# results/embeddings/{dataset}/{backbone}/embeddings.npy by name. The backbone wildcard is a safe
# name, checked against the registered backbones by the command itself (reading that registry
# here would import torch at planning time). The library's pretrained weights are used (downloaded
# into its cache when missing); config keys for --offline / --weights and a resources.embed entry
# (a GPU) need schema entries, not added yet; on a GPU node --device auto uses the GPU.


rule embed:
    input:
        manifest=f"{PREPARED_DIR}/{layout.MANIFEST}",
        images=f"{PREPARED_DIR}/{layout.IMAGES}",
    output:
        embeddings=f"{layout.embeddings_dir()}/{layout.EMBEDDINGS_NPY}",
        manifest=f"{layout.embeddings_dir()}/{layout.MANIFEST}",
    wildcard_constraints:
        backbone=_NAME,
    log:
        layout.log_file("embed", "{dataset}/{backbone}"),
    conda:
        "../envs/fairmedia.yaml"
    resources:
        runtime=config["resources"]["prepare"]["runtime"],
        mem_mb=config["resources"]["prepare"]["mem_mb"],
    shell:
        # embeddings.npy.partial and progress.json are not declared outputs, so Snakemake keeps
        # them when it reruns a killed job and the command resumes after the last written chunk.
        f"{FAIRMEDIA} embed --prepared \"$(dirname {{input.manifest:q}})\" "
        f"--backbone {{wildcards.backbone:q}} --out \"$(dirname {{output.manifest:q}})\" "
        "--device auto 2>&1 | tee {log:q}"
