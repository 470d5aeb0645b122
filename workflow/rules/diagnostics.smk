# Diagnostics (docs/diagnostics.md): where unfairness comes from. Off unless the config enables
# them (diagnostics:); their results are read by the leaderboard, never by training.


rule separability:
    input:
        manifest=f"{PREPARED_DIR}/{layout.MANIFEST}",
    output:
        result=layout.separability_file(),
        scores=layout.separability_scores(layout.separability_file()),
    params:
        settings=diagnostics_plan.separability_args(config),
    log:
        layout.log_file("separability", "{dataset}_{attribute}"),
    conda:
        "../envs/fairmedia.yaml"
    resources:
        mem_mb=4000,
        runtime=60,
    shell:
        f"{FAIRMEDIA} separability --prepared \"$(dirname {{input.manifest:q}})\" "
        "--attribute {wildcards.attribute:q} {params.settings} --out {output.result:q} "
        "> {log:q} 2>&1"
