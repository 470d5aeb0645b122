# Evaluation (docs/contracts.md, contract 4): one metrics.json per run × evaluation attribute × selection,
# plus the selected model's scored test rows for the paired bootstrap of the leaderboard.


rule evaluate:
    input:
        run=f"{EVAL_RUN_DIR}/{layout.RUN_JSON}",
    output:
        metrics=f"{EVAL_DIR}/{layout.METRICS}",
        scored=f"{EVAL_DIR}/{layout.SCORED}",
    params:
        # The settings that change an evaluation's numbers, as one rerun-triggering parameter.
        settings=EVALUATE_RUN_SETTINGS,
    log:
        f"{EVAL_DIR}/{layout.EVALUATE_LOG}",
    conda:
        "../envs/fairmedia.yaml"
    resources:
        mem_mb=2000,
        runtime=15,
    shell:
        f"{FAIRMEDIA} evaluate-run \"$(dirname {{input.run:q}})\" --attribute {{wildcards.attribute:q}} "
        "--selection {wildcards.selection:q} {params.settings} > {log:q} 2>&1"
