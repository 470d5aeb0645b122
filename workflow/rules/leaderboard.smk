# Leaderboard (docs/contracts.md, contract 5): tables, tests and figures per model-selection
# criterion. The transfer leaderboard (transfer.smk) is this rule with other inputs and outputs.


rule leaderboard:
    input:
        lambda wc: grid.metrics_targets(config, wc.selection),
    output:
        md=report(f"{LEADERBOARD_DIR}/leaderboard.md", category="Leaderboard", subcategory="{selection}"),
        csv=report(f"{LEADERBOARD_DIR}/leaderboard.csv", category="Leaderboard", subcategory="{selection}"),
        tex=f"{LEADERBOARD_DIR}/leaderboard.tex",
        significance=report(f"{LEADERBOARD_DIR}/significance.csv", category="Leaderboard", subcategory="{selection}"),
        ranks=report(f"{LEADERBOARD_DIR}/ranks.csv", category="Leaderboard", subcategory="{selection}"),
        figures=[report(f, category="Figures", subcategory="{selection}") for f in figure_outputs()],
    params:
        runs=layout.RUNS,
        out=LEADERBOARD_DIR,
        metrics=config["leaderboard"]["metrics"],
        bootstrap=config["leaderboard"]["bootstrap"],
        correction=config["leaderboard"]["correction"],
        baseline=config["baseline"],
        hparam_criterion=config["leaderboard"]["hparam_criterion"],
        hparam_utility=config["leaderboard"]["hparam_utility"],
        hparam_floor=config["leaderboard"]["hparam_floor"],
        figures="" if config["leaderboard"]["figures"] else "--no-figures",
    log:
        layout.log_file("leaderboard", "{selection}"),
    threads: 2
    conda:
        "../envs/fairmedia.yaml"
    resources:
        mem_mb=4000,
        runtime=30,
    script:
        # A script, not a shell command: its input list (tens of thousands of files on a
        # paper-scale grid) goes to the leaderboard through a file, not a command line.
        "../scripts/leaderboard.py"
