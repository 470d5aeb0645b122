"""Every path of the data contracts (docs/contracts.md), in one place.

The workflow rules, the grid, the training loop, the evaluation and the report read their paths
from here. Each function takes the values that name a path; called without them it returns the
Snakemake pattern (``results/runs/{dataset}/{arch}/{method}/{attribute}/seed{seed}``), so a rule
and the code that writes or reads a file can never spell it differently.

Every path component is a safe name (``config_checks.SAFE_NAME``: letters and digits with single
``_ . -`` between them), so a path copied into a shell never runs or redirects anything. Two
names joined into one component use a double underscore, which a safe name never contains, so
the join parses back unambiguously: ``sex__x__age_group`` (an intersection of two attributes) and
``synth-src__to__synth-twin`` (a transfer direction). The same names appear in tables and figure
file names.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fairmedia.errors import UserError

RESULTS = "results"
PREPARED = f"{RESULTS}/prepared"
RUNS = f"{RESULTS}/runs"
TRANSFER = f"{RESULTS}/transfer"
LEADERBOARD = f"{RESULTS}/leaderboard"
TRANSFER_LEADERBOARD = f"{LEADERBOARD}/transfer"
LOGS = f"{RESULTS}/logs"
SEPARABILITY = f"{RESULTS}/separability"
EMBEDDINGS = f"{RESULTS}/embeddings"

# Contract 1: a prepared dataset folder.
MANIFEST = "manifest.json"
METADATA = "metadata.parquet"
IMAGES = "images.npy"
PREPARED_FILES = (METADATA, IMAGES, MANIFEST)
MASKS = "masks.npy"  # segmentation datasets only (manifest `task: segmentation`)

# Contract 7: an embedding cache folder (one prepared dataset × one backbone); its manifest is MANIFEST.
EMBEDDINGS_NPY = "embeddings.npy"
EMBED_PARTIAL = "embeddings.npy.partial"
EMBED_PROGRESS = "progress.json"
EMBED_LOG = "embed.log"

# Contracts 2 and 3: a run folder (a post-processing run has no epoch scores, weights or checkpoint).
RUN_JSON = "run.json"
PREDICTIONS = "predictions.parquet"
EPOCH_SCORES = "epoch_scores.parquet"
HISTORY = "history.csv"
CHECKPOINT = "checkpoint.pt"
WEIGHTS = "weights"
FEATURES = "features"
TRAIN_LOG = "train.log"
POSTPROCESS_LOG = "postprocess.log"
TRANSFER_JSON = "transfer.json"
TRANSFER_LOG = "transfer.log"

# Contract 4: an evaluation folder inside a run.
METRICS = "metrics.json"
SCORED = "scored.parquet"
EVALUATE_LOG = "evaluate.log"

# Contract 5: a leaderboard folder (tables, figures, and the list of metrics files it read).
LEADERBOARD_INPUTS = "inputs.txt"

INTERSECTION_JOIN = "__x__"
PAIR_JOIN = "__to__"
SEED_PREFIX = "seed"


def prepared_dir(dataset: str = "{dataset}") -> str:
    return f"{PREPARED}/{dataset}"


def embeddings_dir(dataset: str = "{dataset}", backbone: str = "{backbone}") -> str:
    """``backbone`` is a registered name (fairmedia.foundation.backbones.BACKBONES), a safe name."""
    return f"{EMBEDDINGS}/{dataset}/{backbone}"


def run_dir(dataset: str = "{dataset}", arch: str = "{arch}", method: str = "{method}",
            attribute: str = "{attribute}", seed: int | str = "{seed}", *, root: str = RUNS) -> str:
    """``attribute`` is the training attribute (``any`` for attribute-free methods)."""
    return f"{root}/{dataset}/{arch}/{method}/{attribute}/{SEED_PREFIX}{seed}"


def transfer_dir(source: str = "{source}", target: str = "{target}", arch: str = "{arch}",
                 method: str = "{method}", attribute: str = "{train_attribute}",
                 seed: int | str = "{seed}") -> str:
    return run_dir(pair_name(source, target), arch, method, attribute, seed, root=TRANSFER)


def eval_dir(run: str | Path, attribute: str = "{attribute}", selection: str = "{selection}") -> str:
    return f"{run}/eval/{attribute}/{selection}"


def weights_file(run: str | Path, epoch: int) -> Path:
    return Path(run) / WEIGHTS / f"epoch{epoch:03d}.pt"


def features_file(run: str | Path, epoch: int) -> Path:
    """Penultimate-layer features (float16) of the val+test rows after epoch NNN."""
    return Path(run) / FEATURES / f"epoch{epoch:03d}.npz"


def weights_epoch(path: Path) -> int:
    """The epoch of a ``weights/epochNNN.pt`` (or ``features/epochNNN.npz``) file."""
    return int(path.stem.removeprefix("epoch"))


def leaderboard_dir(selection: str = "{selection}", *, transfer: bool = False) -> str:
    return f"{TRANSFER_LEADERBOARD if transfer else LEADERBOARD}/{selection}"


def separability_file(dataset: str = "{dataset}", attribute: str = "{attribute}") -> str:
    """The ``fairmedia separability`` result of one dataset × attribute (its scores sit beside it
    as ``<attribute>.scores.parquet``, diagnostics/separability.py)."""
    return f"{SEPARABILITY}/{dataset}/{attribute}.json"


def separability_scores(result: str | Path) -> str:
    """The per-row val and test scores beside a separability result: ``FILE.scores.parquet``."""
    return str(result).removesuffix(".json") + ".scores.parquet"


def parse_separability_file(path: str | Path) -> tuple[str, str] | None:
    """``(dataset, attribute)`` of a ``separability_file`` path, or None for another path."""
    parts = Path(path).parts
    if len(parts) < 2 or not parts[-1].endswith(".json") or parts[-1].endswith(".scores.json"):
        return None
    return parts[-2], parts[-1].removesuffix(".json")


def log_file(rule: str, name: str) -> str:
    return f"{LOGS}/{rule}/{name}.log"


# Where metrics.json files sit below a runs (or transfer) root.
METRICS_GLOB = f"*/*/*/*/{SEED_PREFIX}*/eval/*/*/{METRICS}"


@dataclass(frozen=True)
class EvalPath:
    """What the path of one ``metrics.json`` says (contract 4)."""

    dataset: str
    arch: str
    method: str
    train_attribute: str
    seed: int
    attribute: str
    selection: str
    run_dir: Path
    eval_dir: Path


def parse_run_dir(run: str | Path) -> tuple[str, str, str, str, int] | None:
    """``(dataset, arch, method, train attribute, seed)`` of a run folder path (its last five
    parts, contract 2), or None when the path does not end in ``.../seed<integer>``."""
    parts = Path(run).parts[-5:]
    if len(parts) < 5 or not parts[4].startswith(SEED_PREFIX):
        return None
    seed = parts[4].removeprefix(SEED_PREFIX)
    return (*parts[:4], int(seed)) if seed.isdigit() else None


def parse_metrics_path(metrics_file: Path, root: Path) -> EvalPath:
    """Read the run and evaluation that a ``metrics.json`` below ``root`` belongs to."""
    parts = metrics_file.relative_to(root).parts
    if len(parts) != 9 or parts[5] != "eval" or parts[8] != METRICS:
        raise UserError(f"{metrics_file}: expected {run_dir(root=str(root))}/eval/{{attribute}}/"
                        f"{{selection}}/{METRICS}")
    dataset, arch, method, train_attr, seed_dir, _, attribute, selection, _ = parts
    try:
        seed = int(seed_dir.removeprefix(SEED_PREFIX))
    except ValueError:
        raise UserError(f"{metrics_file}: folder {seed_dir!r} should be {SEED_PREFIX}<integer>") from None
    run = root.joinpath(dataset, arch, method, train_attr, seed_dir)
    return EvalPath(dataset, arch, method, train_attr, seed, attribute, selection, run,
                    metrics_file.parent)


def intersection_name(*attributes: str) -> str:
    return INTERSECTION_JOIN.join(attributes)


def intersection_parts(name: str) -> list[str]:
    return name.split(INTERSECTION_JOIN)


def pair_name(source: str, target: str) -> str:
    return f"{source}{PAIR_JOIN}{target}"


def pair_parts(name: str) -> tuple[str, str]:
    source, sep, target = name.partition(PAIR_JOIN)
    if not sep:
        raise ValueError(f"{name!r} is not a transfer direction SOURCE{PAIR_JOIN}TARGET")
    return source, target
