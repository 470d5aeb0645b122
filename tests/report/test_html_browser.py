"""The HTML pages in a real headless browser (Debian's chromium + chromedriver via Selenium):
they load without console errors, the leaderboard sorts and filters, every figure loads."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fairmedia.metrics import evaluate_predictions
from fairmedia.metrics.render import render_html
from fairmedia.report.html import write_leaderboard_html
from fairmedia.report.pipeline import write_leaderboard
from fairmedia.testing.synthetic_runs import write_runs

CHROMIUM, DRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
if not (CHROMIUM.exists() and DRIVER.exists()):
    pytest.skip(f"needs {CHROMIUM} and {DRIVER} (Debian: apt-get install chromium "
                "chromium-driver; .ci/run installs them)", allow_module_level=True)
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select  # noqa: E402


@pytest.fixture(scope="module")
def driver():
    options = webdriver.ChromeOptions()
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,1000"):
        options.add_argument(arg)
    options.binary_location = str(CHROMIUM)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    d = webdriver.Chrome(service=Service(str(DRIVER)), options=options)
    yield d
    d.quit()


@pytest.fixture(scope="module")
def leaderboard(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("browser")
    runs = write_runs(root / "runs", [("synthA", "sex"), ("synthB", "sex")],
                      {"erm": 0.0, "gdro": 0.8, "resampling": -0.3}, seeds=[0, 1, 2],
                      selections=["overall", "worst_group"], n_test=200)
    for selection in ("overall", "worst_group"):
        write_leaderboard(runs, selection, root / "lb" / selection, ["auc", "auc_worst"])
    return write_leaderboard_html(root / "lb")


def load(driver, page: Path) -> None:
    driver.get_log("browser")  # drop what an earlier test left in the log
    driver.get(page.as_uri())


def severe(driver) -> list:
    return [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def images_load(driver) -> list[int]:
    return [driver.execute_script("return arguments[0].complete && arguments[0].naturalWidth", i)
            for i in driver.find_elements(By.TAG_NAME, "img")]


def column(table, index: int) -> list[float]:
    return [float(r.find_elements(By.TAG_NAME, "td")[index].get_attribute("data-value"))
            for r in table.find_elements(By.CSS_SELECTOR, "tbody tr")]


def test_leaderboard_loads_sorts_filters_and_shows_every_figure(driver, leaderboard):
    load(driver, leaderboard)
    assert severe(driver) == []
    widths = images_load(driver)
    assert len(widths) >= 4 and all(w and w > 0 for w in widths), widths  # pareto + groups × 2
    table = driver.find_element(By.CSS_SELECTOR, "table.leaderboard")
    header = table.find_elements(By.TAG_NAME, "th")
    index = next(i for i, h in enumerate(header) if h.text.startswith("auc_worst"))
    before = column(table, index)
    header[index].click()
    assert column(table, index) == sorted(before)
    header[index].click()
    assert column(table, index) == sorted(before, reverse=True)
    methods = [r.get_attribute("data-method") for r in table.find_elements(By.CSS_SELECTOR,
                                                                               "tbody tr")]
    assert sorted(methods) == ["erm", "gdro", "resampling"]

    rows = driver.find_elements(By.CSS_SELECTOR, "table.leaderboard tbody tr")
    owner = {r: r.find_element(By.XPATH, "ancestor::section[1]").get_attribute("data-dataset")
             for r in rows}
    assert set(owner.values()) == {"synthA", "synthB"}
    Select(driver.find_element(By.ID, "filter-dataset")).select_by_value("synthA")
    for r, dataset in owner.items():
        assert r.is_displayed() == (dataset == "synthA")
    Select(driver.find_element(By.ID, "filter-metric")).select_by_value("auc")
    shown = [h.text for h in driver.find_elements(By.CSS_SELECTOR, "table.leaderboard th")
             if h.is_displayed()]
    assert shown and {s.split()[0] for s in shown} == {"method", "auc"}
    assert severe(driver) == []


def test_fairness_page_loads_without_errors_and_its_charts_load(driver, tmp_path):
    rng = np.random.default_rng(0)
    n = 300
    df = pd.DataFrame({"y": rng.integers(0, 2, n), "score": rng.random(n),
                       "split": np.where(np.arange(n) < 100, "val", "test"),
                       "sex": rng.choice(["F", "M"], n), "site": rng.choice(["a", "b"], n)})
    page = tmp_path / "report.html"
    page.write_text(render_html(evaluate_predictions(df, ["sex", "site"], intersect=True,
                                                     bootstrap=20)))
    load(driver, page)
    assert severe(driver) == []
    widths = images_load(driver)
    assert len(widths) == 3 and all(w and w > 0 for w in widths), widths  # sex, site, sex×site
    assert driver.find_element(By.TAG_NAME, "h1").text == "Fairness report"

