"""Which metrics and disparity measures the rendered reports show, in order (text, Markdown and
HTML share them, so the three never list different columns)."""

TABLE_METRICS = ["n", "n_pos", "auc", "acc", "tpr", "fpr", "ppv", "selection_rate", "ece", "bce"]
CHART_METRICS = ["auc", "acc", "tpr", "fpr", "selection_rate"]
MEASURE_ROWS = ["gap", "ratio", "ser", "std", "nr", "worst", "best"]
