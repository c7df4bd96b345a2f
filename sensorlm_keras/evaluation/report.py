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

import hashlib
import json
import os
import sys
import time

import numpy as np

from sensorlm_keras.errors import ConfigError, InputValidationError, SensorLMError, describe
from sensorlm_keras.evaluation.evaluation_data import (
    NO_ACTIVITY,
    _dataset_split_dir,
    load_evaluation_data,
)
from sensorlm_keras.evaluation.linear_probe import (
    DEFAULT_K_SHOTS,
    check_k_shots,
    few_shot_linear_probe,
    random_init_sensor_embeddings,
)
from sensorlm_keras.evaluation.retrieval import DEFAULT_KS, recall_curve, retrieval_metrics
from sensorlm_keras.evaluation.supervised_baseline import supervised_baseline
from sensorlm_keras.evaluation.zero_shot import ZeroShotClassifier

REPORT_FILENAME = "report.json"
REPORT_FORMAT_VERSION = 1
PLOT_FILES = {
    "confusion_matrix": "confusion_matrix.png",
    "similarity_heatmap": "similarity_heatmap.png",
    "recall_at_k": "recall_at_k.png",
    "example_day": "example_day.png",
}


def write_json_atomic(path, payload):
    """Write ``payload`` as indented JSON to ``path``: a temporary file in the same directory,
    flushed and fsync-ed, then ``os.replace`` onto the final name."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    text = json.dumps(payload, indent=2, default=_json_default, allow_nan=False) + "\n"
    tmp = os.path.join(directory, f".{os.path.basename(path)}.tmp-{os.getpid()}")
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path


def _json_default(value):
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON serialisable: {describe(value)}")


class _Log:
    def __init__(self, enabled, stream=None):
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self.start = time.perf_counter()

    def __call__(self, message):
        if self.enabled:
            print(f"[{time.perf_counter() - self.start:6.1f}s] {message}", file=self.stream,
                  flush=True)


def _encode_sensor(model, sensor, batch_size, progress, description):
    chunks = range(0, sensor.shape[0], batch_size)
    if progress:
        from tqdm.auto import tqdm

        chunks = tqdm(chunks, desc=description, unit="batch", leave=False, disable=None)
    parts = [model.encode_sensor(sensor[i : i + batch_size], batch_size=batch_size)
             for i in chunks]
    return np.concatenate(parts, axis=0)


def _person_halves(data, seed=0):
    """Split days into two halves by person (hash order of the ids); by day parity if there
    is a single person or no ids. Returns (train_idx, test_idx, description)."""
    n = len(data)
    people = data.person_ids
    if people is not None and len(set(people)) >= 2:
        unique = sorted(
            set(people),
            key=lambda p: hashlib.sha256(f"{seed}:{p}".encode("utf-8")).hexdigest(),
        )
        train_people = set(unique[: len(unique) // 2])
        train = np.array([i for i in range(n) if people[i] in train_people], np.int64)
        test = np.array([i for i in range(n) if people[i] not in train_people], np.int64)
        return train, test, (
            f"no training split given: the evaluated days were split by person into "
            f"probe-train ({len(train_people)} people, {train.size} days) and probe-test "
            f"({len(unique) - len(train_people)} people, {test.size} days)"
        )
    idx = np.arange(n)
    return idx[0::2], idx[1::2], (
        "no training split and fewer than 2 people: the evaluated days were split "
        "alternately into probe-train and probe-test (not by person)"
    )


def _label_selection(labels, classes, include_none):
    """Indices of days used for classification, the class list and exclusion counts."""
    labels = list(labels)
    keep, excluded_none, excluded_other = [], 0, 0
    for i, y in enumerate(labels):
        if classes is not None:
            if y in classes:
                keep.append(i)
            elif y == NO_ACTIVITY:
                excluded_none += 1
            else:
                excluded_other += 1
        elif y == NO_ACTIVITY and not include_none:
            excluded_none += 1
        else:
            keep.append(i)
    class_names = list(classes) if classes is not None else sorted({labels[i] for i in keep})
    return np.array(keep, np.int64), class_names, excluded_none, excluded_other


def _check_classes(classes):
    if classes is None:
        return None
    if isinstance(classes, str):
        classes = [c.strip() for c in classes.split(",")]
    classes = [str(c).strip() for c in classes]
    if not classes or any(not c for c in classes):
        raise InputValidationError(
            f"classes: expected non-empty class names, received {classes!r}."
        )
    dupes = sorted({c for c in classes if classes.count(c) > 1})
    if dupes:
        raise InputValidationError(f"classes: duplicated class names {dupes}.")
    if len(classes) < 2:
        raise InputValidationError(
            f"classes: expected at least 2 classes to classify among, received {classes!r}."
        )
    return classes


def _positive_int(value, field):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise InputValidationError(f"{field}: expected a positive integer, received {value!r}.")
    return int(value)


def evaluate_run(run, data, out_dir=None, classes=None, k_shots=DEFAULT_K_SHOTS, seeds=5,
                 templates=None, include_none=False, probe_data=None, probe_limit=1000,
                 random_baseline=True, caption_variant=None, split="test", limit=None,
                 ks=DEFAULT_KS, batch_size=64, plots=True, progress=True):
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
        templates: zero-shot prompt templates (default `DEFAULT_PROMPT_TEMPLATES`).
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
    import sensorlm_keras.models  # noqa: F401  (registers SensorLM for deserialisation)
    from sensorlm_keras.runs.run_artifacts import RunArtifacts, load_run

    started = time.perf_counter()
    log = _Log(bool(progress))
    classes = _check_classes(classes)
    k_shots = check_k_shots(k_shots)
    seeds = _positive_int(seeds, "seeds")
    batch_size = _positive_int(batch_size, "batch_size")
    probe_limit = _positive_int(probe_limit, "probe_limit")

    # ---------------------------------------------------------------- run and data
    if isinstance(run, RunArtifacts):
        artifacts = run
    else:
        log(f"loading run {os.fspath(run)}")
        try:
            artifacts = load_run(run)
        except SensorLMError:
            raise
        except Exception as error:  # corrupt model.keras / tokenizer: one clear message
            raise ConfigError(
                f"run {os.fspath(run)!r}: cannot load the run ({type(error).__name__}: "
                f"{' '.join(str(error).split())[:300]})."
            ) from error
    model, tokenizer = artifacts.model, artifacts.tokenizer
    variant = caption_variant or artifacts.config.get("caption_variant", "high_summary")
    out_dir = os.fspath(out_dir) if out_dir is not None else os.path.join(artifacts.directory,
                                                                           "eval")
    log(f"loading evaluation data ({variant} captions)")
    data = load_evaluation_data(data, caption_variant=variant, split=split, limit=limit)
    data = data.align_channels(artifacts.schema.names)
    if probe_data is None and isinstance(data.source, str) and os.path.isdir(data.source):
        parent = os.path.dirname(os.path.abspath(data.source))
        sibling = _dataset_split_dir(parent, "train")
        if (os.path.basename(os.path.abspath(data.source)) != "train" and sibling is not None
                and sibling != parent):
            probe_data = sibling
    notes = []
    report = {
        "format_version": REPORT_FORMAT_VERSION,
        "run": {
            "directory": os.path.abspath(artifacts.directory),
            "backend": _backend(),
            "caption_variant": variant,
            "temperature": _scalar(getattr(model, "temperature", None)),
            "model": {
                key: getattr(model.config, key)
                for key in ("sequence_length", "num_channels", "embed_dim", "loss")
            },
        },
        "data": {"source": data.source, "num_days": len(data)},
    }

    log(f"encoding {len(data)} days")
    sensor_z = _encode_sensor(model, data.sensor, batch_size, progress, "sensor encoder")

    # ---------------------------------------------------------------- retrieval
    similarity = None
    if data.captions is not None and len(data) >= 2:
        log(f"retrieval over {len(data)} day-caption pairs")
        tokens = tokenizer(list(data.captions))
        text_z = model.encode_text(np.asarray(tokens["token_ids"]),
                                   np.asarray(tokens["padding_mask"]), batch_size=batch_size)
        similarity = np.asarray(model.similarity(sensor_z, text_z), dtype=np.float64)
        retrieval = retrieval_metrics(similarity=similarity, ks=ks)
        if retrieval["k_at_least_candidates"]:
            notes.append(
                f"retrieval: recall@k for k in {retrieval['k_at_least_candidates']} is 1 by "
                f"construction (only {len(data)} candidates)."
            )
        report["retrieval"] = retrieval
    else:
        reason = "the data has no captions" if data.captions is None else "fewer than 2 days"
        report["retrieval"] = {"skipped": reason}
        notes.append(f"retrieval skipped: {reason}.")

    # ---------------------------------------------------------------- classification
    none_is_class = (NO_ACTIVITY in classes) if classes is not None else include_none
    label_policy = (
        "labels = longest logged activity of >= 20 minutes (the first one the caption names); "
        + ("days labelled 'none' are a class 'none'" if none_is_class
           else "days labelled 'none' (no logged activity) are excluded")
        + ("; only the given classes are used" if classes is not None else "")
    )
    report["data"]["label_policy"] = label_policy
    eval_idx, class_names = np.zeros(0, np.int64), []
    if data.labels is None:
        report["zero_shot"] = {"skipped": "the data has no labels"}
        report["linear_probe"] = {"skipped": "the data has no labels"}
        notes.append("zero-shot and linear probe skipped: the data has no labels.")
    else:
        eval_idx, class_names, excluded_none, excluded_other = _label_selection(
            data.labels, classes, include_none
        )
        counts = {c: int(sum(data.labels[i] == c for i in eval_idx)) for c in class_names}
        report["data"].update({
            "num_labelled": int(eval_idx.size),
            "label_counts": counts,
            "excluded_none": excluded_none,
            "excluded_outside_classes": excluded_other,
        })
        report["zero_shot"] = _zero_shot(model, tokenizer, sensor_z, data, eval_idx, class_names,
                                         templates, batch_size, log, notes)
        report["linear_probe"] = _linear_probe(
            model, data, sensor_z, eval_idx, classes, include_none, probe_data, probe_limit,
            variant, k_shots, seeds, random_baseline, batch_size, progress, log, notes,
        )

    # ---------------------------------------------------------------- plots
    report["plots"] = {}
    if plots:
        log(f"writing figures to {out_dir}")
        report["plots"] = _write_plots(report, data, similarity, eval_idx, class_names, out_dir)
    report["notes"] = notes
    report["elapsed_seconds"] = round(time.perf_counter() - started, 2)
    path = write_json_atomic(os.path.join(out_dir, REPORT_FILENAME), report)
    report["report_path"] = os.path.abspath(path)
    log(f"report written to {path}")
    return report


def _backend():
    import keras

    return keras.backend.backend()


def _scalar(value):
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


def _zero_shot(model, tokenizer, sensor_z, data, eval_idx, class_names, templates, batch_size,
               log, notes):
    if len(class_names) < 2:
        reason = f"needs at least 2 classes, the labelled days have {class_names or 'none'}"
        notes.append(f"zero-shot skipped: {reason}.")
        return {"skipped": reason}
    if eval_idx.size == 0:
        notes.append("zero-shot skipped: no labelled day among the classes.")
        return {"skipped": "no labelled day among the classes"}
    log(f"zero-shot classification of {eval_idx.size} days into {len(class_names)} classes")
    classifier = ZeroShotClassifier(model, tokenizer, class_names, templates=templates,
                                    batch_size=batch_size)
    labels = [data.labels[i] for i in eval_idx]
    result = classifier.evaluate(sensor_z[eval_idx], labels)
    result["templates"] = list(classifier.templates)
    result["chance_accuracy"] = 1.0 / len(class_names)
    result["day_indices"] = eval_idx.tolist()
    if result.get("auroc_skipped"):
        notes.append(f"zero-shot AUROC: {result['auroc_note']}")
    return result


def _linear_probe(model, data, sensor_z, eval_idx, classes, include_none, probe_data,
                  probe_limit, variant, k_shots, seeds, random_baseline, batch_size, progress,
                  log, notes):
    if eval_idx.size < 2:
        notes.append("linear probe skipped: fewer than 2 labelled days.")
        return {"skipped": "fewer than 2 labelled days"}
    if probe_data is not None:
        log("loading probe-training data")
        train = load_evaluation_data(probe_data, caption_variant=variant, split="train",
                                     limit=probe_limit)
        train = train.align_channels(data.channel_names)
        if train.labels is None:
            raise InputValidationError(
                f"probe_data: {train.source} has no labels; the linear probe needs labelled days."
            )
        train_idx, _, _, _ = _label_selection(train.labels, classes, include_none)
        if train_idx.size == 0:
            notes.append("linear probe skipped: the probe-training data has no day of the classes.")
            return {"skipped": "no probe-training day of the classes"}
        train = train.select(train_idx)
        log(f"encoding {len(train)} probe-training days")
        train_z = _encode_sensor(model, train.sensor, batch_size, progress, "probe-train days")
        test = data.select(eval_idx)
        test_z = sensor_z[eval_idx]
        source = f"{train.source} ({len(train)} days)"
    else:
        subset = data.select(eval_idx)
        tr, te, source = _person_halves(subset)
        if tr.size == 0 or te.size == 0:
            notes.append("linear probe skipped: cannot split the days into train and test.")
            return {"skipped": "cannot split the days into train and test"}
        train, test = subset.select(tr), subset.select(te)
        train_z, test_z = sensor_z[eval_idx][tr], sensor_z[eval_idx][te]
    if len(set(train.labels)) < 2:
        notes.append("linear probe skipped: the probe-training days have fewer than 2 classes.")
        return {"skipped": "the probe-training days have fewer than 2 classes", "train": source}
    log(f"linear probe: {len(train)} train / {len(test)} test days, k = "
        f"{', '.join(map(str, k_shots))}, {seeds} seed(s)")
    result = {
        "train": source,
        "sensorlm": few_shot_linear_probe(train_z, train.labels, test_z, test.labels,
                                          k_shots=k_shots, seeds=seeds, progress=progress,
                                          description="probe (trained encoder)"),
    }
    unseen = result["sensorlm"]["unseen_test_classes"]
    if unseen:
        notes.append(
            f"linear probe: {result['sensorlm']['num_test_unseen']} test day(s) belong to "
            f"classes without probe-training days ({', '.join(unseen)}); they count as errors."
        )
    log("supervised reference on the raw days")
    result["supervised_raw_days"] = supervised_baseline(train.sensor, train.labels, test.sensor,
                                                        test.labels)
    if random_baseline:
        log("random-init encoder baseline")
        both = np.concatenate([train.sensor, test.sensor], axis=0)
        random_z = random_init_sensor_embeddings(model, both, seed=0, batch_size=batch_size)
        result["random_init"] = few_shot_linear_probe(
            random_z[: len(train)], train.labels, random_z[len(train):], test.labels,
            k_shots=k_shots, seeds=seeds, progress=progress, description="probe (random init)",
        )
    return result


def _write_plots(report, data, similarity, eval_idx, class_names, out_dir):
    from sensorlm_keras.evaluation import plots

    written = {}
    zero_shot = report.get("zero_shot", {})
    if "confusion_matrix" in zero_shot:
        written["confusion_matrix"] = plots.plot_confusion_matrix(
            zero_shot["confusion_matrix"], zero_shot["classes"],
            os.path.join(out_dir, PLOT_FILES["confusion_matrix"]),
            title="Zero-shot activity recognition",
        )
    retrieved = None
    candidates = [int(i) for i in eval_idx if data.labels[int(i)] != NO_ACTIVITY]
    example = candidates[0] if candidates else 0
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
    label = data.labels[example] if data.labels is not None else None
    title = f"Example day {example}" + (
        f" (person {data.person_ids[example][:10]}, day {int(data.day_index[example])})"
        if data.person_ids is not None and data.day_index is not None else ""
    ) + (f", label: {label}" if label else "")
    written["example_day"] = plots.plot_example_day(
        data.sensor[example], os.path.join(out_dir, PLOT_FILES["example_day"]),
        channel_names=data.channel_names,
        mask=None if data.mask is None else data.mask[example],
        events=None if data.events is None else data.events[example],
        reference_caption=None if data.captions is None else data.captions[example],
        retrieved=retrieved, title=title,
    )
    report["example_day_index"] = example
    return {name: os.path.basename(path) for name, path in written.items()}


def _fmt(value, digits=3):
    return "  n/a" if value is None else f"{value:.{digits}f}"


def format_summary(report):
    """One screen of text summarising an `evaluate_run` report.

    Example:

    ```python
    from sensorlm_keras.evaluation import evaluate_run, format_summary

    print(format_summary(evaluate_run("runs/tiny", "data/synth")))
    ```
    """
    if not isinstance(report, dict) or "data" not in report:
        raise InputValidationError(
            f"report: expected the dict returned by evaluate_run, received {describe(report)}."
        )
    data = report["data"]
    lines = [
        f"SensorLM evaluation of {report['run']['directory']}",
        f"data: {data['source']}: {data['num_days']} days"
        + (f", {data['num_labelled']} used for classification" if "num_labelled" in data else ""),
    ]
    if "label_policy" in data:
        lines.append(f"      {data['label_policy']}")
    retrieval = report.get("retrieval", {})
    lines.append("")
    if "skipped" in retrieval:
        lines.append(f"retrieval: skipped ({retrieval['skipped']})")
    else:
        ks = [k for k in retrieval["sensor_to_text"] if k.startswith("recall@")]
        lines.append(
            f"retrieval ({retrieval['num_pairs']} pairs, ties={retrieval['ties']})".ljust(34)
            + "".join(f"{k.replace('recall', 'R'):>8}" for k in ks) + "  median rank"
        )
        for name, key in (("sensor -> text", "sensor_to_text"), ("text -> sensor",
                                                                  "text_to_sensor"),
                          ("chance", "chance")):
            row = retrieval[key]
            lines.append(f"  {name:<32}" + "".join(f"{row[k]:>8.3f}" for k in ks)
                         + f"  {row['median_rank']:>11.1f}")
    zero_shot = report.get("zero_shot", {})
    lines.append("")
    if "skipped" in zero_shot:
        lines.append(f"zero-shot activity recognition: skipped ({zero_shot['skipped']})")
    elif zero_shot:
        k = len(zero_shot["classes"])
        lines.append(
            f"zero-shot activity recognition ({zero_shot['num_examples']} days, {k} classes, "
            f"{len(zero_shot['templates'])} prompt templates)"
        )
        auroc = zero_shot.get("auroc_macro")
        skipped = zero_shot.get("auroc_skipped") or []
        lines.append(
            f"  accuracy {_fmt(zero_shot['accuracy'])} "
            f"(chance {_fmt(zero_shot['chance_accuracy'])})"
            f"   macro-F1 {_fmt(zero_shot['macro_f1'])}   AUROC {_fmt(auroc)}"
            + (f" ({len(skipped)} class(es) without days skipped)" if skipped else "")
        )
    probe = report.get("linear_probe", {})
    lines.append("")
    if "skipped" in probe:
        lines.append(f"linear probe: skipped ({probe['skipped']})")
    elif probe:
        trained = probe["sensorlm"]
        lines.append(
            f"linear probe ({trained['num_train']} train / {trained['num_test']} test days, "
            f"majority baseline {_fmt(trained['majority_accuracy'])})"
        )
        lines.append(f"  probe-train: {probe['train']}")
        lines.append(
            "  k".ljust(8) + "accuracy (SensorLM)".rjust(22) + "macro-F1".rjust(16)
            + ("accuracy (random init)".rjust(26) if "random_init" in probe else "")
        )
        for k, row in trained["results"].items():
            line = (
                f"  {k:<6}" + f"{row['accuracy_mean']:.3f} ± {row['accuracy_std']:.3f}".rjust(22)
                + f"{row['macro_f1_mean']:.3f} ± {row['macro_f1_std']:.3f}".rjust(16)
            )
            if "random_init" in probe:
                base = probe["random_init"]["results"][k]
                line += f"{base['accuracy_mean']:.3f} ± {base['accuracy_std']:.3f}".rjust(26)
            lines.append(line + f"   (n={row['seeds']} seed{'s' if row['seeds'] > 1 else ''})")
        reference = probe.get("supervised_raw_days")
        if reference:
            lines.append(
                f"  supervised reference on the raw days (all labels, not embeddings): accuracy "
                f"{_fmt(reference['accuracy'])}, macro-F1 {_fmt(reference['macro_f1'])}"
            )
    lines.append("")
    out = os.path.dirname(report.get("report_path", "")) or "."
    lines.append(f"report: {report.get('report_path', REPORT_FILENAME)}")
    if report.get("plots"):
        lines.append(f"plots:  {', '.join(report['plots'].values())} (in {out})")
    for note in report.get("notes", [])[:5]:
        lines.append(f"note: {note}")
    return "\n".join(lines)
