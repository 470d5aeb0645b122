# Runs (docs/contracts.md, contract 2). Attribute-free methods (erm, sam, swa, swad) train once, under
# attribute "any". Post-processing runs (contract 3) read their base run's predictions.


rule train:
    input:
        manifest=f"{PREPARED}/{{dataset}}/manifest.json",
    output:
        run=f"{RUNS}/{{dataset}}/{{arch}}/{{method}}/{{attribute}}/seed{{seed}}/run.json",
        predictions=f"{RUNS}/{{dataset}}/{{arch}}/{{method}}/{{attribute}}/seed{{seed}}/predictions.parquet",
        epoch_scores=f"{RUNS}/{{dataset}}/{{arch}}/{{method}}/{{attribute}}/seed{{seed}}/epoch_scores.parquet",
        history=f"{RUNS}/{{dataset}}/{{arch}}/{{method}}/{{attribute}}/seed{{seed}}/history.csv",
    wildcard_constraints:
        method=TRAIN_METHODS,
    params:
        cli=FAIRMEDIA,
        out=RUN_DIR,
        # One function for everything that depends on the method (its base name for @hpK
        # variants, its hyperparameters): planning pays per function-valued param and job.
        extra=lambda wc: f"--method {grid.base_method(wc.method)} {grid.train_args(config, wc.method)}",
    log:
        f"{RUNS}/{{dataset}}/{{arch}}/{{method}}/{{attribute}}/seed{{seed}}/train.log",
    group:
        "train"  # one SLURM job per run unless --group-components train=N (docs/cluster.md)
    resources:
        # From config resources.train (per dataset/arch overrides); the SLURM plugin turns them
        # into --gpus, --cpus-per-task (data-loading workers), --mem and -t (× attempt on retry).
        gpu=train_resource("gpu"),
        cpus_per_task=train_resource("cpus"),
        mem_mb=train_resource("mem_mb"),
        runtime=train_resource("runtime"),
        **optional_train_resources(),
        # Speed-only settings travel as resources (no rerun trigger): retuning them for another
        # machine never retrains finished runs.
        **grid.train_execution(config),
    shell:
        "{params.cli} train --prepared \"$(dirname {input.manifest:q})\" --out {params.out:q} "
        "--arch {wildcards.arch:q} --attribute {wildcards.attribute:q} --seed {wildcards.seed:q} "
        "--threads {resources.torch_threads:q} --num-workers {resources.loader_workers:q} "
        "--pin-memory {resources.pin_memory:q} --compile {resources.torch_compile:q} "
        "{params.extra} 2>&1 | tee {log:q}"


rule postprocess:
    input:
        manifest=f"{PREPARED}/{{dataset}}/manifest.json",
        base=lambda wc: f"{base_run(wc)}/run.json",
    output:
        run=f"{RUNS}/{{dataset}}/{{arch}}/{{method}}/{{attribute}}/seed{{seed}}/run.json",
        predictions=f"{RUNS}/{{dataset}}/{{arch}}/{{method}}/{{attribute}}/seed{{seed}}/predictions.parquet",
    wildcard_constraints:
        method=POST_METHODS or "(?!)",
    params:
        cli=FAIRMEDIA,
        method=lambda wc: grid.base_method(wc.method),
        prepared=lambda wc: f"{PREPARED}/{wc.dataset}",
        base=base_run,
        out=lambda wc: run_dir(wc),
        extra=lambda wc: grid.post_args(config, wc.method),
    log:
        f"{RUNS}/{{dataset}}/{{arch}}/{{method}}/{{attribute}}/seed{{seed}}/postprocess.log",
    resources:
        mem_mb=4000,
        runtime=30,
    shell:
        "{params.cli} postprocess --base {params.base:q} --method {params.method:q} "
        "--attribute {wildcards.attribute:q} --prepared {params.prepared:q} --out {params.out:q} "
        "--seed {wildcards.seed:q} {params.extra} 2>&1 | tee {log:q}"
