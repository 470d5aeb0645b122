"""House style of every figure: colour-blind-safe palette, arrows on axis labels, PNG + PDF.

The palette is Okabe & Ito's ("Color Universal Design", 2008), distinguishable under the common
colour-vision deficiencies and in greyscale print order. Figures are saved twice: PDF (vector, for
a paper) and PNG at ``DPI`` (for HTML pages and the Snakemake report).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from fairmedia.metrics.directions import higher_is_better  # noqa: E402

DPI = 200
FORMATS = ("png", "pdf")

# Okabe–Ito, black first (the baseline), then in the order that keeps neighbours distinct.
OKABE_ITO = ["#000000", "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00",
             "#CC79A7"]
BASELINE_COLOR = OKABE_ITO[0]
METHOD_COLOR = OKABE_ITO[5]
FRONT_COLOR = OKABE_ITO[6]

RC = {
    "font.size": 8,
    "axes.titlesize": 9,
    "axes.labelsize": 8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.prop_cycle": matplotlib.cycler(color=OKABE_ITO[1:] + OKABE_ITO[:1]),
    "legend.fontsize": 7,
    "legend.frameon": False,
    "pdf.fonttype": 42,  # TrueType in the PDF: text stays text (editable, searchable)
    "savefig.bbox": "tight",
}


def axis_label(metric: str, what: str = "") -> str:
    """``"auc_gap ↓"`` / ``"auc ↑"``: the metric with the direction that is better."""
    arrow = "↑" if higher_is_better(metric) else "↓"
    return f"{metric}{' ' + what if what else ''} {arrow}"


def group_colors(n: int) -> list[str]:
    """``n`` distinct colours for groups (Okabe–Ito without black; repeats past seven)."""
    palette = OKABE_ITO[1:]
    return [palette[i % len(palette)] for i in range(n)]


def save(fig: plt.Figure, stem: Path) -> list[Path]:
    """Write ``stem.png`` (``DPI``) and ``stem.pdf``; close the figure; return both paths.

    ``stem`` may end in ``.png``/``.pdf`` (it is dropped); any other dot stays part of the name
    (``pareto_synth.v2`` → ``pareto_synth.v2.png``), which ``Path.with_suffix`` would cut."""
    stem = Path(stem)
    if stem.suffix.lower() in {f".{f}" for f in FORMATS}:
        stem = stem.with_suffix("")
    paths = []
    for fmt in FORMATS:
        path = stem.with_name(f"{stem.name}.{fmt}")
        # RC again here: savefig.bbox and pdf.fonttype are read when saving, not when drawing.
        # No creation date in the PDF: the same data give byte-identical files.
        with plt.rc_context(RC):
            fig.savefig(path, dpi=DPI, metadata={"CreationDate": None} if fmt == "pdf" else None)
        paths.append(path)
    plt.close(fig)
    return paths
