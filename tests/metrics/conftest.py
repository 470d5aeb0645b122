import numpy as np
import pandas as pd
import pytest


def random_predictions(n: int, n_groups: int, seed: int = 0, strings: bool = True) -> pd.DataFrame:
    """Scores informative of y, prevalence and score shift varying by group."""
    rng = np.random.default_rng(seed)
    group = rng.integers(0, n_groups, n)
    y = (rng.uniform(size=n) < 0.3 + 0.1 * group / max(n_groups - 1, 1)).astype(int)
    score = 1 / (1 + np.exp(-(1.5 * y - 0.7 + 0.3 * group + rng.normal(size=n))))
    labels = np.array([f"g{k}" for k in range(n_groups)]) if strings else np.arange(n_groups)
    return pd.DataFrame({"y": y, "score": score, "grp": labels[group]})


@pytest.fixture
def predictions_factory():
    return random_predictions
