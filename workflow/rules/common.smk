# Shared setup: validate the config (schema, then registry names) before any job is planned.
import os
import shlex
import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError
from snakemake.settings.types import DeploymentMethod

from fairmedia import config_checks, config_schema, grid, layout
from fairmedia.diagnostics import plan as diagnostics_plan
from fairmedia.report.names import safe_name
from fairmedia.errors import UserError
from fairmedia.methods.catalog import method_catalog

for _path in workflow.configfiles:  # plain YAML would keep the last of two equal keys silently
    try:
        config_checks.check_duplicate_keys(_path)
    except UserError as err:
        raise WorkflowError(f"invalid config: {err}") from None
try:  # a few lines naming the key, its expected type and values (not jsonschema's full dump)
    config_schema.validate_schema(config, Path(workflow.basedir) / "workflow/schemas/config.schema.yaml")
except UserError as err:
    raise WorkflowError(f"invalid config: {err}") from None
try:
    grid.check_config(config)
except UserError as err:
    raise WorkflowError(f"invalid config: {err}") from None
# Resolved once, before the rules compute their outputs. Each aggregate becomes a dataset key, so
# the train, evaluate and leaderboard rules (and the declared figures) cover it like any other.
grid.merge_aggregates(config)
grid.merge_injections(config)  # each `inject:` entry too: prepared by `fairmedia inject` from its base

# Every command runs with the interpreter running Snakemake, so no PATH set-up is needed; under
# --use-conda it runs with the python of the rules' environment (workflow/envs/fairmedia.yaml),
# which holds the pinned dependencies but not this package, so PYTHONPATH is set to the source
# root (every job, the leaderboard's script too, inherits Snakemake's environment). It replaces
# any outer PYTHONPATH, whose packages would mix into the pinned environment. The workflow sets
# this variable and never reads one, so no `envvars:` requirement is declared for it.
if DeploymentMethod.CONDA in workflow.deployment_settings.deployment_method:
    os.environ.update(PYTHONPATH=str(Path(workflow.basedir) / "benchmark"))
    FAIRMEDIA = "python -m fairmedia.cli"
else:
    FAIRMEDIA = f"{shlex.quote(sys.executable)} -m fairmedia.cli"
TRAIN_EXECUTION = grid.train_execution_args(config)
EVALUATION_SETTINGS = grid.evaluation_args(config)
EVALUATE_RUN_SETTINGS = grid.evaluation_args(config, in_distribution=True)
SELECTIONS = config["selections"]
_ALL_METHODS = method_catalog()  # read from source: planning never imports torch
# A method wildcard is a registered name, optionally with a sampled-hyperparameter suffix @hpK.
TRAIN_METHODS = "(" + "|".join(n for n, c in _ALL_METHODS.items() if c.category != "post") + r")(@hp\d+)?"
POST_METHODS = "(" + "|".join(n for n, c in _ALL_METHODS.items() if c.category == "post") + r")(@hp\d+)?"
# Path components are safe names (fairmedia/config_checks.py); a method may carry its @hpK suffix,
# an evaluation attribute may be an intersection of two or more (fairmedia/layout.py).
_NAME = config_checks.SAFE_NAME.strip("^$")


wildcard_constraints:
    dataset=_NAME,
    arch=_NAME,
    method=_NAME + r"(@hp\d+)?",
    attribute=f"{_NAME}({layout.INTERSECTION_JOIN}{_NAME})*",
    train_attribute=_NAME,
    seed=r"\d+",
    selection="|".join(SELECTIONS),


# The contracts' paths as Snakemake patterns (fairmedia/layout.py holds every one of them).
PREPARED_DIR = layout.prepared_dir()
RUN_DIR = layout.run_dir()
EVAL_RUN_DIR = layout.run_dir(attribute="{train_attribute}")
EVAL_DIR = layout.eval_dir(EVAL_RUN_DIR)
LEADERBOARD_DIR = layout.leaderboard_dir()
SEPARABILITY_TARGETS = diagnostics_plan.separability_targets(config)


def leaderboard_targets():
    """Each selection's Markdown table and its declared figures. The figures are requested too
    because Snakemake reruns a job only for the outputs a target asks for: without them a
    leaderboard whose figure is missing (a PDF beside a PNG made by an older version, or a
    deleted file) would never be redrawn."""
    targets = []
    for s in SELECTIONS:
        targets.append(f"{layout.leaderboard_dir(s)}/leaderboard.md")
        targets += [f.replace("{selection}", s) for f in figure_outputs()]
    return targets


def figure_outputs():
    """Figures whose names follow from the config (per-group AUC bars per table block, one
    fairness–utility plot per dataset), each as PNG (200 dpi) and PDF (report/style.py FORMATS);
    critical-difference diagrams need ≥ 2 blocks and are written beside them without being
    declared."""
    if not config["leaderboard"]["figures"]:
        return []
    names = set()
    for run in grid.runs(config):
        names.add(f"pareto_{run.dataset}")
        for attr in grid.eval_attributes(config, run):
            names.add(f"groups_{run.dataset}_{attr}_{run.arch}")
    return [f"{LEADERBOARD_DIR}/{safe_name(n)}.{ext}" for n in sorted(names) for ext in ("png", "pdf")]


# Every output shown in `snakemake --report` has a caption in workflow/report/ (paths relative
# to the rules files, which live beside this one).
_CAPTION = "../report/{}.rst"


def figure_caption(path):
    """The caption of a figure, from its kind (the file name's prefix)."""
    kind = Path(path).name.split("_", 1)[0]
    return _CAPTION.format(f"figure_{kind}" if kind in ("cd", "pareto", "groups") else "figure")


# One self-contained page over every selection's table (docs/contracts.md, contract 5); it is
# also the report's first item, so `snakemake --report` shows the leaderboard itself.
def leaderboard_html_targets():
    targets = [f"{layout.LEADERBOARD}/index.html"]
    if grid.transfer_leaderboard_targets(config):
        targets.append(f"{layout.TRANSFER_LEADERBOARD}/index.html")
    return targets


def print_leaderboards():
    """In-distribution tables, then the out-of-distribution ones when the config has transfers."""
    tables = [t for t in leaderboard_targets() + grid.transfer_leaderboard_targets(config)
              if t.endswith(".md")]
    for path in map(Path, tables):
        if path.exists():
            print(f"\n{path}:\n\n{path.read_text()}")


# Planning cost is per job: a plain value or wildcard pattern is cheaper than a function, so
# functions are used only where the value really varies (per-dataset/arch overrides, retries).
_HAS_OVERRIDES = bool(config.get("resources", {}).get("train", {}).get("overrides"))


def train_resource(key):
    if key != "runtime" and not _HAS_OVERRIDES:
        return grid.train_resources(config, "", "")[key]

    def get(wc, attempt):
        value = grid.train_resources(config, wc.dataset, wc.arch)[key]
        # A retried job (preempted, or out of time) gets proportionally more runtime.
        return value * attempt if key == "runtime" else value

    return get


SLURM_TRAIN_KEYS = ("gpu_model", "slurm_partition", "slurm_extra")


def optional_train_resources():
    """SLURM-only settings (partition, GPU model, extra sbatch flags) that the config names in
    resources.train or its overrides; a run whose dataset/arch sets none gets "" (not passed)."""
    spec = config.get("resources", {}).get("train", {})
    named = set(spec) | {k for o in (spec.get("overrides") or {}).values() for k in o}
    return {
        key: (lambda wc, key=key: grid.train_resources(config, wc.dataset, wc.arch).get(key, ""))
        for key in SLURM_TRAIN_KEYS
        if key in named
    }


def base_run(wc):
    base = config["post_base"]
    attr = wc.attribute if grid.uses_attribute(base) else "any"
    return layout.run_dir(wc.dataset, wc.arch, base, attr, wc.seed)
