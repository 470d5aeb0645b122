# Leaderboard (docs/contracts.md, contract 5): tables, tests and figures per model-selection criterion.


rule leaderboard:
    input:
        lambda wc: grid.metrics_targets(config, wc.selection),
    output:
        md=report("results/leaderboard/{selection}/leaderboard.md", category="Leaderboard", subcategory="{selection}"),
        csv=report("results/leaderboard/{selection}/leaderboard.csv", category="Leaderboard", subcategory="{selection}"),
        tex="results/leaderboard/{selection}/leaderboard.tex",
        significance=report("results/leaderboard/{selection}/significance.csv", category="Leaderboard", subcategory="{selection}"),
        ranks=report("results/leaderboard/{selection}/ranks.csv", category="Leaderboard", subcategory="{selection}"),
        figures=[report(f, category="Figures", subcategory="{selection}") for f in figure_outputs()],
    params:
        cli=FAIRMEDIA,
        runs=RUNS,
        out="results/leaderboard/{selection}",
        metrics=config["leaderboard"]["metrics"],
        bootstrap=config["leaderboard"]["bootstrap"],
        correction=config["leaderboard"]["correction"],
        baseline=config["baseline"],
        figures="" if config["leaderboard"]["figures"] else "--no-figures",
        listing="results/leaderboard/{selection}/inputs.txt",
    log:
        "results/logs/leaderboard/{selection}.log",
    threads: 2
    resources:
        mem_mb=4000,
        runtime=30,
    run:
        write_listing(params.listing, input)
        shell(
            "{params.cli} leaderboard --runs {params.runs:q} --selection {wildcards.selection:q} "
            "--out {params.out:q} --include-from {params.listing:q} --metrics {params.metrics:q} "
            "--bootstrap {params.bootstrap:q} --correction {params.correction:q} "
            "--baseline {params.baseline:q} --jobs {threads} {params.figures} --quiet > {log:q} 2>&1"
        )
