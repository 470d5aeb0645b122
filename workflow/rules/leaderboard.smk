# Leaderboard (docs/contracts.md, contract 5): tables, tests and figures per model-selection
# criterion. The transfer leaderboard (transfer.smk) is this rule with other inputs and outputs.
# Every output shown in `snakemake --report` has a caption in workflow/report/ (the
# caption helpers are in common.smk: `snakemake --lint` wants rules and functions apart).


rule leaderboard:
    input:
        metrics=lambda wc: grid.metrics_targets(config, wc.selection),
        # The separability line under each block (diagnostics.separability.enabled; else none).
        separability=SEPARABILITY_TARGETS,
    output:
        md=report(f"{LEADERBOARD_DIR}/leaderboard.md", caption=_CAPTION.format("leaderboard_md"),
                  category="Leaderboard", subcategory="{selection}"),
        csv=report(f"{LEADERBOARD_DIR}/leaderboard.csv", caption=_CAPTION.format("leaderboard_csv"),
                   category="Leaderboard", subcategory="{selection}"),
        tex=f"{LEADERBOARD_DIR}/leaderboard.tex",
        significance=report(f"{LEADERBOARD_DIR}/significance.csv",
                            caption=_CAPTION.format("significance"), category="Leaderboard",
                            subcategory="{selection}"),
        ranks=report(f"{LEADERBOARD_DIR}/ranks.csv", caption=_CAPTION.format("ranks"),
                     category="Leaderboard", subcategory="{selection}"),
        figures=[report(f, caption=figure_caption(f), category="Figures", subcategory="{selection}")
                 for f in figure_outputs()],
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
        effect_size=config["leaderboard"]["effect_size"],
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


# One self-contained page over every selection's table (docs/contracts.md, contract 5).


rule leaderboard_html:
    input:
        leaderboard_targets(),
    output:
        report(f"{layout.LEADERBOARD}/index.html", caption=_CAPTION.format("leaderboard_html"),
               category="Leaderboard", subcategory="HTML leaderboard",
               labels={"page": "all selections"}),
    params:
        folder=lambda wc, output: str(Path(output[0]).parent),  # layout.LEADERBOARD
        title="FairMedIA leaderboard",
        baseline=config["baseline"],
        correction=config["leaderboard"]["correction"],
    log:
        layout.log_file("leaderboard", "html"),
    conda:
        "../envs/fairmedia.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    shell:
        f"{FAIRMEDIA} leaderboard-html {{params.folder:q}} --title {{params.title:q}} "
        "--baseline {params.baseline:q} --correction {params.correction:q} > {log:q} 2>&1"
