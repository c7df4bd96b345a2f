"""The real pyActigraphy recordings through the path a researcher's own files take (issue 18):
``sensorlm data fetch actigraphy`` (pip download of the pyActigraphy wheel into the cache,
never committed) writes a minute table and an event log -> ``data build`` (every row checked,
bounded memory) -> ``train --smoke --data`` -> ``eval --labels events``.

Asserted: the import keeps every recording's days and joins its sleep events, people never
cross splits, training runs on the real days and the evaluation reports retrieval on held-out
recordings. Not asserted: that the model learned; measured, it did not at this size (retrieval
at chance on the held-out recordings after 600 steps on ~90 days of one channel; README, "Real
actigraphy"), so a learning threshold here would be a false claim.
"""

import json

import pytest

from tests.data._cli_helpers import run_cli


@pytest.fixture(scope="module")
def actigraphy_tables(tmp_path_factory):
    from sensorlm_keras.data import ActigraphyUnavailableError, load_actigraphy_days

    try:
        load_actigraphy_days()
    except ActigraphyUnavailableError as error:
        pytest.skip(f"pyActigraphy recordings unavailable (pip cannot reach the registry): {error}")
    folder = tmp_path_factory.mktemp("acti") / "tables"
    out = run_cli("data", "fetch", "actigraphy", "--out", str(folder))
    assert "of 19 recordings (159 days; channels steps, wrist_temperatures)" in out
    return folder


@pytest.mark.slow
def test_actigraphy_fetch_build_train_eval(actigraphy_tables, tmp_path):
    from sensorlm_keras.data import read_examples

    data, run, report_dir = tmp_path / "data", tmp_path / "run", tmp_path / "eval"
    out = run_cli("data", "build", "--input", str(actigraphy_tables / "minutes.csv"),
               "--events", str(actigraphy_tables / "events.csv"), "--out", str(data),
               "--salt", "s", "--splits", "0.6,0.1,0.3", "--no-progress")
    assert "Read 228960 rows of 19 people from 1 file(s): 159 days with data" in out
    assert "joined 200 logged event(s)" in out
    people = {split: {ex["person_id"] for ex in read_examples(data / split)}
              for split in ("train", "validation", "test")}
    assert not people["train"] & people["test"] and not people["train"] & people["validation"]
    test_days = list(read_examples(data / "test", variants=["high_summary"]))
    assert sum("sleep" in ex["captions"]["high_summary"].lower() for ex in test_days) > (
        0.8 * len(test_days))  # the recordings' sleep reached the captions
    run_cli("train", "--smoke", "--no-progress", "--data", str(data), "--run-dir", str(run),
         "--set", "steps=30", "--set", "steps_per_checkpoint=30", "--set", "tensorboard=false",
         "--no-eval")
    run_cli("eval", "--run", str(run), "--data", str(data), "--labels", "events", "--out",
         str(report_dir), "--no-plots", "--no-progress", "--seeds", "1")
    with open(report_dir / "report.json", encoding="utf-8") as f:
        report = json.load(f)
    assert report["data"]["num_days"] == len(test_days) >= 30
    retrieval = report["retrieval"]
    assert retrieval["num_pairs"] == len(test_days)
