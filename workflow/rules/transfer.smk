# Out-of-distribution evaluation (config `transfer:`, and each aggregate towards its members):
# a finished run's selected checkpoints score the target's test split; evaluation uses the
# threshold fitted on the source's val split; one leaderboard ranks every direction (docs/ood.md).
import re

_TRANSFER_KEYS = "|".join(re.escape(k) for k in config["datasets"]) or "(?!)"
_TRANSFER_RUN = layout.transfer_dir()
_SOURCE_RUN = layout.run_dir("{source}", attribute="{train_attribute}")
_TRANSFER_EVAL = layout.eval_dir(_TRANSFER_RUN)
_TRANSFER_MAPS = grid.transfer_map_args(config)  # resolved once, not per job


rule transfer_predict:
    input:
        # run.json is written last, after the weights/ of every selected epoch that this reads.
        run=f"{_SOURCE_RUN}/{layout.RUN_JSON}",
        epoch_scores=f"{_SOURCE_RUN}/{layout.EPOCH_SCORES}",
        target=f"{layout.prepared_dir('{target}')}/{layout.MANIFEST}",
    output:
        predictions=f"{_TRANSFER_RUN}/{layout.PREDICTIONS}",
        info=f"{_TRANSFER_RUN}/{layout.TRANSFER_JSON}",
    wildcard_constraints:
        source=_TRANSFER_KEYS,
        target=_TRANSFER_KEYS,
    params:
        maps=lambda wc: _TRANSFER_MAPS[(wc.source, wc.target)],
        device=config["train"]["device"],
    log:
        f"{_TRANSFER_RUN}/{layout.TRANSFER_LOG}",
    conda:
        "../envs/fairmedia.yaml"
    resources:
        gpu=lambda wc: grid.transfer_resources(config, wc.source, wc.arch, 1)["gpu"],
        cpus_per_task=lambda wc: grid.transfer_resources(config, wc.source, wc.arch, 1)["cpus"],
        mem_mb=lambda wc: grid.transfer_resources(config, wc.source, wc.arch, 1)["mem_mb"],
        runtime=lambda wc, attempt: grid.transfer_resources(config, wc.source, wc.arch, attempt)["runtime"],
    shell:
        f"{FAIRMEDIA} transfer predict \"$(dirname {{input.run:q}})\" "
        "--target \"$(dirname {input.target:q})\" --out \"$(dirname {output.predictions:q})\" "
        f"{{params.maps}} --device {{params.device:q}} --threads {shlex.quote(str(config['train']['threads']))} "
        "> {log:q} 2>&1"


rule transfer_evaluate:
    input:
        predictions=f"{_TRANSFER_RUN}/{layout.PREDICTIONS}",
    output:
        metrics=f"{_TRANSFER_EVAL}/{layout.METRICS}",
        scored=f"{_TRANSFER_EVAL}/{layout.SCORED}",
    wildcard_constraints:
        source=_TRANSFER_KEYS,
        target=_TRANSFER_KEYS,
    params:
        settings=EVALUATION_SETTINGS,
    log:
        f"{_TRANSFER_EVAL}/{layout.EVALUATE_LOG}",
    conda:
        "../envs/fairmedia.yaml"
    resources:
        mem_mb=2000,
        runtime=15,
    shell:
        f"{FAIRMEDIA} transfer evaluate \"$(dirname {{input.predictions:q}})\" "
        "--attribute {wildcards.attribute:q} --selection {wildcards.selection:q} "
        "{params.settings} > {log:q} 2>&1"


# The dataset column of this table is the direction {source}__to__{target}: each direction is a
# cell of its own, ranked and significance-tested like an in-distribution dataset.
use rule leaderboard as transfer_leaderboard with:
    input:
        metrics=lambda wc: grid.transfer_metrics_targets(config, wc.selection),
        separability=[],  # the separability line is of in-distribution blocks
    output:
        md=report(f"{layout.leaderboard_dir(transfer=True)}/leaderboard.md",
                  caption=_CAPTION.format("leaderboard_md"), category="Transfer leaderboard",
                  subcategory="{selection}"),
        csv=report(f"{layout.leaderboard_dir(transfer=True)}/leaderboard.csv",
                   caption=_CAPTION.format("leaderboard_csv"), category="Transfer leaderboard",
                   subcategory="{selection}"),
        tex=f"{layout.leaderboard_dir(transfer=True)}/leaderboard.tex",
        significance=report(f"{layout.leaderboard_dir(transfer=True)}/significance.csv",
                            caption=_CAPTION.format("significance"),
                            category="Transfer leaderboard", subcategory="{selection}"),
        ranks=report(f"{layout.leaderboard_dir(transfer=True)}/ranks.csv",
                     caption=_CAPTION.format("ranks"), category="Transfer leaderboard",
                     subcategory="{selection}"),
    params:
        runs=layout.TRANSFER,
        out=layout.leaderboard_dir(transfer=True),
        figures="--no-figures",
    log:
        layout.log_file("leaderboard", "transfer-{selection}"),


use rule leaderboard_html as transfer_leaderboard_html with:
    input:
        grid.transfer_leaderboard_targets(config),
    output:
        report(f"{layout.TRANSFER_LEADERBOARD}/index.html", caption=_CAPTION.format("leaderboard_html"),
               category="Transfer leaderboard", subcategory="HTML leaderboard",
               labels={"page": "all selections"}),
    params:
        folder=lambda wc, output: str(Path(output[0]).parent),  # layout.TRANSFER_LEADERBOARD
        title="FairMedIA transfer leaderboard (source → target)",
        baseline=config["baseline"],
        correction=config["leaderboard"]["correction"],
    log:
        layout.log_file("leaderboard", "transfer-html"),
