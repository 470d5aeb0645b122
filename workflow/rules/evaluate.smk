# Evaluation (docs/contracts.md, contract 4): one metrics.json per run × evaluation attribute × selection,
# plus the selected model's scored test rows for the paired bootstrap of the leaderboard.


rule evaluate:
    input:
        run=f"{RUNS}/{{dataset}}/{{arch}}/{{method}}/{{train_attribute}}/seed{{seed}}/run.json",
    output:
        metrics=f"{RUNS}/{{dataset}}/{{arch}}/{{method}}/{{train_attribute}}/seed{{seed}}/eval/{{attribute}}/{{selection}}/metrics.json",
        scored=f"{RUNS}/{{dataset}}/{{arch}}/{{method}}/{{train_attribute}}/seed{{seed}}/eval/{{attribute}}/{{selection}}/scored.parquet",
    params:
        cli=FAIRMEDIA,
        out=f"{RUNS}/{{dataset}}/{{arch}}/{{method}}/{{train_attribute}}/seed{{seed}}/eval/{{attribute}}/{{selection}}",
        bootstrap=config["evaluation"]["bootstrap"],
        threshold=config["evaluation"]["threshold"],
        min_group_size=config["evaluation"]["min_group_size"],
    log:
        f"{RUNS}/{{dataset}}/{{arch}}/{{method}}/{{train_attribute}}/seed{{seed}}/eval/{{attribute}}/{{selection}}/evaluate.log",
    group:
        "evaluate"
    resources:
        mem_mb=2000,
        runtime=15,
    shell:
        "{params.cli} evaluate-run \"$(dirname {input.run:q})\" --attribute {wildcards.attribute:q} "
        "--selection {wildcards.selection:q} --out-dir {params.out:q} --bootstrap {params.bootstrap:q} "
        "--threshold {params.threshold:q} --min-group-size {params.min_group_size:q} > {log:q} 2>&1"
