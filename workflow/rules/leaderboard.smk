# Leaderboard (DESIGN.md, contract 5): tables, tests and figures per model-selection criterion.


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
        metrics=" ".join(config["leaderboard"]["metrics"]),
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
            "{params.cli} leaderboard --runs {params.runs} --selection {wildcards.selection} "
            "--out {params.out} --include-from {params.listing} --metrics {params.metrics} "
            "--bootstrap {params.bootstrap} --correction {params.correction} "
            "--baseline {params.baseline} --jobs {threads} {params.figures} --quiet > {log} 2>&1"
        )
