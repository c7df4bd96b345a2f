"""Shared argv for the CLI-level data tests."""


def synth_argv(out, seed=3, salt="cli-salt", *extra):
    """``sensorlm data synth`` for 4 people x 2 days (8 days), 2 shards, no progress bar."""
    return ["data", "synth", "--people", "4", "--days", "8", "--out", str(out), "--shards", "2",
            "--seed", str(seed), "--salt", salt, *extra, "--no-progress"]
