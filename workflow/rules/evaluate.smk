# Evaluation (docs/contracts.md, contract 4): one metrics.json per run × evaluation attribute × selection,
# plus the selected model's scored test rows for the paired bootstrap of the leaderboard.


rule evaluate:
    input:
        run=f"{EVAL_RUN_DIR}/{layout.RUN_JSON}",
    output:
        metrics=f"{EVAL_DIR}/{layout.METRICS}",
        scored=f"{EVAL_DIR}/{layout.SCORED}",
    params:
        cli=FAIRMEDIA,
        out=EVAL_DIR,
        bootstrap=config["evaluation"]["bootstrap"],
        threshold=config["evaluation"]["threshold"],
        min_group_size=config["evaluation"]["min_group_size"],
    log:
        f"{EVAL_DIR}/{layout.EVALUATE_LOG}",
    group:
        "evaluate"
    resources:
        mem_mb=2000,
        runtime=15,
    shell:
        "{params.cli} evaluate-run \"$(dirname {input.run:q})\" --attribute {wildcards.attribute:q} "
        "--selection {wildcards.selection:q} --out-dir {params.out:q} --bootstrap {params.bootstrap:q} "
        "--threshold {params.threshold:q} --min-group-size {params.min_group_size:q} > {log:q} 2>&1"
