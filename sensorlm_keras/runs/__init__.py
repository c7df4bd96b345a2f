"""Trained runs on disk: the run directory (`save_run` / `load_run`) and safe model loading.

A run directory holds everything needed to use a trained SensorLM again (model, tokenizer,
channel normalisation, run config). Training writes it; evaluation, export and captioning read
it. This package sits between those jobs and the model/data/tokenizer packages it assembles.
"""

from sensorlm_keras.runs.run_artifacts import (
    RunArtifacts,
    check_tokenizer_matches_model,
    load_run,
    save_run,
)
from sensorlm_keras.runs.safe_model_loading import load_keras_model_safely
