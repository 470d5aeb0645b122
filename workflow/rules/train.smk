# Runs (docs/contracts.md, contract 2). Attribute-free methods (erm, sam, swa, swad) train once, under
# attribute "any". Post-processing runs (contract 3) read their base run's predictions.


rule train:
    input:
        manifest=f"{PREPARED_DIR}/{layout.MANIFEST}",
    output:
        run=f"{RUN_DIR}/{layout.RUN_JSON}",
        predictions=f"{RUN_DIR}/{layout.PREDICTIONS}",
        epoch_scores=f"{RUN_DIR}/{layout.EPOCH_SCORES}",
        history=f"{RUN_DIR}/{layout.HISTORY}",
    wildcard_constraints:
        method=TRAIN_METHODS,
    params:
        # One function for everything that depends on the method (its base name for @hpK
        # variants, its hyperparameters): planning pays per function-valued param and job.
        extra=lambda wc: f"--method {grid.base_method(wc.method)} {grid.train_args(config, wc.method)}",
    log:
        f"{RUN_DIR}/{layout.TRAIN_LOG}",
    conda:
        "../envs/fairmedia.yaml"
    resources:
        # From config resources.train (per dataset/arch overrides); the SLURM plugin turns them
        # into --gpus, --cpus-per-task (data-loading workers), --mem and -t (× attempt on retry).
        gpu=train_resource("gpu"),
        cpus_per_task=train_resource("cpus"),
        mem_mb=train_resource("mem_mb"),
        runtime=train_resource("runtime"),
        **optional_train_resources(),
    shell:
        # The interpreter and the speed-only settings (threads, loader workers, pinned memory,
        # compile) are written into the command when the workflow is read: neither is a rerun
        # trigger, so retuning them for another machine never retrains finished runs, and
        # Snakemake formats fewer fields per job when it plans.
        f"{FAIRMEDIA} train --prepared \"$(dirname {{input.manifest:q}})\" "
        f"--out \"$(dirname {{output.run:q}})\" --arch {{wildcards.arch:q}} "
        f"--attribute {{wildcards.attribute:q}} --seed {{wildcards.seed:q}} {TRAIN_EXECUTION} "
        "{params.extra} 2>&1 | tee {log:q}"


rule postprocess:
    input:
        manifest=f"{PREPARED_DIR}/{layout.MANIFEST}",
        # The base run's files that the post-processing driver reads (FairPrune also reads the
        # selected epoch's weights/, which the base run keeps for every selected epoch).
        base=lambda wc: f"{base_run(wc)}/{layout.RUN_JSON}",
        base_scores=lambda wc: f"{base_run(wc)}/{layout.EPOCH_SCORES}",
    output:
        run=f"{RUN_DIR}/{layout.RUN_JSON}",
        predictions=f"{RUN_DIR}/{layout.PREDICTIONS}",
    wildcard_constraints:
        method=POST_METHODS or "(?!)",
    params:
        method=lambda wc: grid.base_method(wc.method),
        base=base_run,
        extra=lambda wc: grid.post_args(config, wc.method),
    log:
        f"{RUN_DIR}/{layout.POSTPROCESS_LOG}",
    conda:
        "../envs/fairmedia.yaml"
    resources:
        mem_mb=4000,
        runtime=30,
    shell:
        f"{FAIRMEDIA} postprocess --base {{params.base:q}} --method {{params.method:q}} "
        "--attribute {wildcards.attribute:q} --prepared \"$(dirname {input.manifest:q})\" "
        "--out \"$(dirname {output.run:q})\" --seed {wildcards.seed:q} {params.extra} 2>&1 | tee {log:q}"
