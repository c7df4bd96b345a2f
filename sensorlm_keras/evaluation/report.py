"""`evaluate_run`: every evaluation of a trained run on a test set, written as ``report.json``
plus PNG figures, and `format_summary`, its one-screen text summary.

Label policy (activity recognition): a day's class is its longest logged activity of at least
20 minutes, the first activity its caption names (`activity_label_from_events`); days whose
label is ``"none"`` (no logged activity) are excluded from zero-shot classification and the
linear probe by default, because "no activity" is not an activity class (pass
``include_none=True`` to keep them as a class ``"none"`` with its own prompts). With
``classes``, only days labelled with one of those classes are used; classes without any day are
kept in the zero-shot label set (their AUROC is skipped and the report says so).

Linear probe data: the probe is trained on ``probe_data`` when given; otherwise, when ``data``
is a dataset root with a ``train`` split next to the evaluated split, on that train split (at
most ``probe_limit`` days); otherwise the evaluated days are split by person into a probe-train
and a probe-test half. The test side is the same for every ``k`` and seed.
"""

import dataclasses
import json
import os
import time

import numpy as np

from sensorlm_keras.errors import ConfigError, SensorLMError, describe
from sensorlm_keras.evaluation.data_loading import dataset_split_dir, load_evaluation_data
from sensorlm_keras.evaluation.evaluation_data import NO_ACTIVITY
from sensorlm_keras.evaluation.linear_probe import DEFAULT_K_SHOTS
from sensorlm_keras.evaluation.report_classification import classification_sections
from sensorlm_keras.evaluation.report_context import ReportContext
from sensorlm_keras.evaluation.report_options import ReportOptions
from sensorlm_keras.evaluation.retrieval import DEFAULT_KS, recall_curve, retrieval_metrics
from sensorlm_keras.utils.atomic_io import atomic_write_text

REPORT_FILENAME = "report.json"
REPORT_FORMAT_VERSION = 1
PLOT_FILES = {
    "confusion_matrix": "confusion_matrix.png",
    "similarity_heatmap": "similarity_heatmap.png",
    "recall_at_k": "recall_at_k.png",
    "example_day": "example_day.png",
}


def write_json_atomic(path, payload):
    """Write ``payload`` as indented JSON to ``path`` atomically (`atomic_write_text`); NumPy
    scalars and arrays are written as numbers and lists, NaN and Inf are refused. Returns
    ``path``."""
    path = os.fspath(path)
    text = json.dumps(payload, indent=2, default=_json_default, allow_nan=False) + "\n"
    atomic_write_text(path, text)
    return path


def _json_default(value):
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON serialisable: {describe(value)}")


def evaluate_run(run, data, out_dir=None, classes=None, k_shots=DEFAULT_K_SHOTS, seeds=5,
                 templates=None, include_none=False, probe_data=None, probe_limit=1000,
                 random_baseline=True, caption_variant=None, split="test", limit=None,
                 ks=DEFAULT_KS, batch_size=64, plots=True, progress=True, labels="auto"):
    """Evaluate a trained run: retrieval, zero-shot activity recognition and few-shot linear
    probes (with a random-init encoder baseline) on a test set; write ``report.json`` and PNGs.

    Args:
        run: a run directory (``model.keras``, ``tokenizer/``, ``run_config.json``) or a loaded
            `RunArtifacts`.
        data: the test set: a TFRecord dataset root (its ``split`` is used), a split directory,
            shard file or glob, an ``.npz`` file, `WearableDays` (raw in-memory days), a dict of
            arrays or `EvaluationData` (see `load_evaluation_data`).
        out_dir: where ``report.json`` and the PNGs go (default ``<run_dir>/eval``).
        classes: zero-shot / probe class names (default: the labels found in the data).
        k_shots: linear-probe shots per class (ints and/or ``"all"``; default 1, 5, 10, all).
        seeds: repetitions of each finite ``k`` (default 5).
        templates: zero-shot prompt templates (default: the ``zero_shot_templates`` of the
            evaluated split's manifest, e.g. `WINDOW_PROMPT_TEMPLATES` for labelled windows,
            else `DEFAULT_PROMPT_TEMPLATES`).
        include_none: keep days without a logged activity as a class ``"none"``.
        probe_data: training days of the linear probe (anything `load_evaluation_data`
            accepts; a dataset root gives its ``train`` split).
        probe_limit: at most this many probe-training days are read from a dataset.
        random_baseline: also probe a randomly initialised encoder of the same architecture
            (built after ``keras.utils.set_random_seed(0)``, which re-seeds the global
            Python / NumPy / backend generators).
        caption_variant: reference caption variant (default: the run's training variant).
        split: split of a dataset root to evaluate (default ``"test"``).
        limit: evaluate at most this many days.
        ks: retrieval cut-offs (default 1, 5, 10).
        batch_size: encoder batch size.
        plots: write the PNG figures.
        progress: print stage messages and progress bars to stderr.
        labels: where the class of a stored example comes from: ``"auto"`` (its logged events
            when it has any, else its stored label), ``"label"`` (the stored label, e.g. of
            labelled windows) or ``"events"`` (`EvaluationData.from_tfrecord`).

    Returns:
        the report dict (also written to ``<out_dir>/report.json``).

    Example:

    ```python
    from sensorlm_keras.evaluation import evaluate_run, format_summary

    report = evaluate_run("runs/tiny", "data/synth", out_dir="runs/tiny/eval", seeds=3)
    print(format_summary(report))
    report["retrieval"]["sensor_to_text"]["recall@1"]
    ```
    """
    context = ReportContext(ReportOptions(
        classes=classes, k_shots=k_shots, seeds=seeds, templates=templates,
        include_none=include_none, probe_data=probe_data, probe_limit=probe_limit,
        random_baseline=random_baseline, batch_size=batch_size, progress=progress,
        labels=labels,
    ))
    artifacts = _load_run(context, run, caption_variant)
    out_dir = os.fspath(out_dir) if out_dir is not None else os.path.join(artifacts.directory,
                                                                           "eval")
    _load_data(context, artifacts, data, split, limit)
    report = {
        "format_version": REPORT_FORMAT_VERSION,
        "run": _run_section(context, artifacts),
        "data": {"source": context.data.source, "num_days": len(context.data)},
    }
    context.log(f"encoding {len(context.data)} days")
    context.sensor_z = context.encode_sensor(context.data.sensor, "sensor encoder")
    report["retrieval"], similarity = _retrieval_section(context, ks)
    eval_idx = classification_sections(context, report)
    report["plots"] = {}
    if plots:
        context.log(f"writing figures to {out_dir}")
        report["plots"] = _write_plots(context, report, similarity, eval_idx, out_dir)
    report["notes"] = context.notes
    report["elapsed_seconds"] = round(time.perf_counter() - context.started, 2)
    path = write_json_atomic(os.path.join(out_dir, REPORT_FILENAME), report)
    report["report_path"] = os.path.abspath(path)
    context.log(f"report written to {path}")
    return report


def _load_run(context, run, caption_variant):
    """The run's `RunArtifacts` (loaded unless given); sets the context's model, tokenizer and
    caption variant."""
    from sensorlm_keras.runs.run_artifacts import RunArtifacts, load_run

    if isinstance(run, RunArtifacts):
        artifacts = run
    else:
        context.log(f"loading run {os.fspath(run)}")
        try:
            artifacts = load_run(run)
        except SensorLMError:
            raise
        except Exception as error:  # corrupt model.keras / tokenizer: one clear message
            raise ConfigError(
                f"run {os.fspath(run)!r}: cannot load the run ({type(error).__name__}: "
                f"{' '.join(str(error).split())[:300]})."
            ) from error
    context.model, context.tokenizer = artifacts.model, artifacts.tokenizer
    context.caption_variant = caption_variant or artifacts.config.get("caption_variant",
                                                                      "high_summary")
    return artifacts


def _load_data(context, artifacts, data, split, limit):
    """Sets the context's evaluated days (in the run's channel order) and, for a dataset split
    without ``probe_data``, the probe-training split beside it."""
    context.log(f"loading evaluation data ({context.caption_variant} captions)")
    data = load_evaluation_data(data, caption_variant=context.caption_variant, split=split,
                                limit=limit, labels=context.options.labels)
    context.data = data.align_channels(artifacts.schema.names)
    if context.options.templates is None:
        manifest = _manifest_templates(data.source)
        templates = manifest or artifacts.config.get("zero_shot_templates")
        if templates:
            context.options = dataclasses.replace(context.options, templates=tuple(templates))
            context.notes.append("zero-shot: the prompt templates of the "
                                 + ("dataset's manifest" if manifest else "run's training data")
                                 + " (zero_shot_templates).")
    if context.options.probe_data is None and isinstance(data.source, str) and os.path.isdir(
            data.source):
        parent = os.path.dirname(os.path.abspath(data.source))
        sibling = dataset_split_dir(parent, "train")
        if (os.path.basename(os.path.abspath(data.source)) != "train" and sibling is not None
                and sibling != parent):
            context.options = dataclasses.replace(context.options, probe_data=sibling)


def _manifest_templates(source):
    """The ``zero_shot_templates`` of the manifest of a split directory ``source`` (written
    by `build_window_dataset`), else ``None``."""
    from sensorlm_keras.data.dataset_manifest import MANIFEST_FILENAME, DatasetManifest

    if not (isinstance(source, str) and os.path.isfile(os.path.join(source,
                                                                      MANIFEST_FILENAME))):
        return None
    return DatasetManifest.load(source).extra.get("zero_shot_templates")


def _run_section(context, artifacts):
    import keras

    temperature = getattr(context.model, "temperature", None)
    try:
        temperature = None if temperature is None else float(temperature)
    except (TypeError, ValueError):
        temperature = None
    return {
        "directory": os.path.abspath(artifacts.directory),
        "backend": keras.backend.backend(),
        "caption_variant": context.caption_variant,
        "temperature": temperature,
        "model": {
            key: getattr(context.model.config, key)
            for key in ("sequence_length", "num_channels", "embed_dim", "loss")
        },
    }


def _retrieval_section(context, ks):
    """``(report entry, similarity matrix or None)`` of sensor <-> caption retrieval."""
    data = context.data
    if data.captions is None or len(data) < 2:
        reason = "the data has no captions" if data.captions is None else "fewer than 2 days"
        return context.skip("retrieval", reason), None
    context.log(f"retrieval over {len(data)} day-caption pairs")
    tokens = context.tokenizer(list(data.captions))
    text_z = context.model.encode_text(np.asarray(tokens["token_ids"]),
                                       np.asarray(tokens["padding_mask"]),
                                       batch_size=context.options.batch_size)
    similarity = np.asarray(context.model.similarity(context.sensor_z, text_z), dtype=np.float64)
    retrieval = retrieval_metrics(similarity=similarity, ks=ks)
    if retrieval["k_at_least_candidates"]:
        context.notes.append(
            f"retrieval: recall@k for k in {retrieval['k_at_least_candidates']} is 1 by "
            f"construction (only {len(data)} candidates)."
        )
    return retrieval, similarity


def _write_plots(context, report, similarity, eval_idx, out_dir):
    from sensorlm_keras.evaluation import plots

    data = context.data
    written = {}
    zero_shot = report.get("zero_shot", {})
    if "confusion_matrix" in zero_shot:
        written["confusion_matrix"] = plots.plot_confusion_matrix(
            zero_shot["confusion_matrix"], zero_shot["classes"],
            os.path.join(out_dir, PLOT_FILES["confusion_matrix"]),
            title="Zero-shot activity recognition",
        )
    candidates = [int(i) for i in eval_idx if data.labels[int(i)] != NO_ACTIVITY]
    example = candidates[0] if candidates else 0
    retrieved = None
    if similarity is not None:
        written["similarity_heatmap"] = plots.plot_similarity_heatmap(
            similarity, os.path.join(out_dir, PLOT_FILES["similarity_heatmap"])
        )
        written["recall_at_k"] = plots.plot_recall_curves(
            {"sensor -> text": recall_curve(similarity, max_k=min(len(data), 100)),
             "text -> sensor": recall_curve(similarity.T, max_k=min(len(data), 100))},
            len(data), os.path.join(out_dir, PLOT_FILES["recall_at_k"]),
        )
        order = np.argsort(-similarity[example], kind="stable")[:3]
        retrieved = [(data.captions[j], similarity[example, j], int(j) == example) for j in order]
    written["example_day"] = _plot_example_day(data, example, retrieved, out_dir)
    report["example_day_index"] = example
    return {name: os.path.basename(path) for name, path in written.items()}


def _plot_example_day(data, example, retrieved, out_dir):
    from sensorlm_keras.evaluation import plots

    label = data.labels[example] if data.labels is not None else None
    title = f"Example day {example}" + (
        f" (person {data.person_ids[example][:10]}, day {int(data.day_index[example])})"
        if data.person_ids is not None and data.day_index is not None else ""
    ) + (f", label: {label}" if label else "")
    return plots.plot_example_day(
        data.sensor[example], os.path.join(out_dir, PLOT_FILES["example_day"]),
        channel_names=data.channel_names,
        mask=None if data.mask is None else data.mask[example],
        events=None if data.events is None else data.events[example],
        reference_caption=None if data.captions is None else data.captions[example],
        retrieved=retrieved, title=title,
    )
