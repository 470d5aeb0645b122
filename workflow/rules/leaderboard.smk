# Leaderboard (DESIGN.md, contract 5): tables, tests and figures per model-selection criterion.


rule leaderboard:
    input:
        lambda wc: grid.metrics_targets(config, wc.selection),
    output:
        md="results/leaderboard/{selection}/leaderboard.md",
        csv="results/leaderboard/{selection}/leaderboard.csv",
        tex="results/leaderboard/{selection}/leaderboard.tex",
        significance="results/leaderboard/{selection}/significance.csv",
        ranks="results/leaderboard/{selection}/ranks.csv",
    params:
        cli=FAIRMEDIA,
        runs=RUNS,
        out="results/leaderboard/{selection}",
        metrics=" ".join(config["leaderboard"]["metrics"]),
        bootstrap=config["leaderboard"]["bootstrap"],
        correction=config["leaderboard"]["correction"],
        baseline=config["baseline"],
        figures="" if config["leaderboard"]["figures"] else "--no-figures",
    log:
        "results/logs/leaderboard/{selection}.log",
    resources:
        mem_mb=4000,
        runtime=30,
    shell:
        "{params.cli} leaderboard --runs {params.runs} --selection {wildcards.selection} --out {params.out} "
        "--metrics {params.metrics} --bootstrap {params.bootstrap} --correction {params.correction} "
        "--baseline {params.baseline} {params.figures} --quiet > {log} 2>&1"
