"""The classification sections of `evaluate_run`: which days are labelled with which class,
zero-shot activity recognition and the few-shot linear probe (with its supervised and
random-init references)."""

import hashlib

import numpy as np

from sensorlm_keras.errors import InputValidationError
from sensorlm_keras.evaluation.data_loading import load_evaluation_data
from sensorlm_keras.evaluation.evaluation_data import NO_ACTIVITY
from sensorlm_keras.evaluation.linear_probe import (
    few_shot_linear_probe,
    random_init_sensor_embeddings,
)
from sensorlm_keras.evaluation.supervised_baseline import supervised_baseline
from sensorlm_keras.evaluation.zero_shot import ZeroShotClassifier


def label_policy(options, has_events=True):
    """The sentence the report gives for how examples are labelled and which are used
    (``has_events``: whether any evaluated example has logged events)."""
    from_events = options.labels == "events" or (options.labels == "auto" and has_events)
    return (
        ("labels = longest logged activity of >= 20 minutes (the first one the caption names); "
         if from_events else "labels = each example's stored label (labels=label); ")
        + ("days labelled 'none' are a class 'none'" if options.none_is_class
           else "days labelled 'none' (no logged activity) are excluded")
        + ("; only the given classes are used" if options.classes is not None else "")
    )


def label_selection(labels, classes, include_none):
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


def person_halves(data, seed=0):
    """Split days into two halves by person (people in SHA-256 order of ``seed:id``, so the
    split is reproducible across NumPy and scikit-learn versions); by day parity if there is a
    single person or no ids. Returns (train_idx, test_idx, description)."""
    people = data.person_ids
    if people is not None and len(set(people)) >= 2:
        unique = sorted(
            set(people),
            key=lambda p: hashlib.sha256(f"{seed}:{p}".encode("utf-8")).hexdigest(),
        )
        train_people = set(unique[: len(unique) // 2])
        in_train = np.array([p in train_people for p in people], dtype=bool)
        train, test = np.flatnonzero(in_train), np.flatnonzero(~in_train)
        return train, test, (
            f"no training split given: the evaluated days were split by person into "
            f"probe-train ({len(train_people)} people, {train.size} days) and probe-test "
            f"({len(unique) - len(train_people)} people, {test.size} days)"
        )
    idx = np.arange(len(data))
    return idx[0::2], idx[1::2], (
        "no training split and fewer than 2 people: the evaluated days were split "
        "alternately into probe-train and probe-test (not by person)"
    )


def classification_sections(context, report):
    """Fill ``report["zero_shot"]``, ``report["linear_probe"]`` and the label counts of
    ``report["data"]``; returns the indices of the classified days."""
    data, options = context.data, context.options
    has_events = data.events is not None and any(data.events)
    report["data"]["label_policy"] = label_policy(options, has_events)
    report["data"]["labels"] = options.labels
    if data.labels is None:
        report["zero_shot"] = {"skipped": "the data has no labels"}
        report["linear_probe"] = {"skipped": "the data has no labels"}
        context.notes.append("zero-shot and linear probe skipped: the data has no labels.")
        return np.zeros(0, np.int64)
    eval_idx, class_names, excluded_none, excluded_other = label_selection(
        data.labels, options.classes, options.include_none
    )
    report["data"].update({
        "num_labelled": int(eval_idx.size),
        "label_counts": {c: int(sum(data.labels[i] == c for i in eval_idx))
                         for c in class_names},
        "excluded_none": excluded_none,
        "excluded_outside_classes": excluded_other,
    })
    report["zero_shot"] = zero_shot_section(context, eval_idx, class_names)
    report["linear_probe"] = linear_probe_section(context, eval_idx)
    return eval_idx


def zero_shot_section(context, eval_idx, class_names):
    """Zero-shot classification of the days ``eval_idx`` into ``class_names``."""
    if len(class_names) < 2:
        return context.skip(
            "zero-shot",
            f"needs at least 2 classes, the labelled days have {class_names or 'none'}",
        )
    if eval_idx.size == 0:
        return context.skip("zero-shot", "no labelled day among the classes")
    context.log(f"zero-shot classification of {eval_idx.size} days into {len(class_names)} "
                "classes")
    classifier = ZeroShotClassifier(context.model, context.tokenizer, class_names,
                                    templates=context.options.templates,
                                    batch_size=context.options.batch_size)
    labels = [context.data.labels[i] for i in eval_idx]
    result = classifier.evaluate(context.sensor_z[eval_idx], labels)
    result["templates"] = list(classifier.templates)
    result["chance_accuracy"] = 1.0 / len(class_names)
    result["day_indices"] = eval_idx.tolist()
    if result.get("auroc_skipped"):
        context.notes.append(f"zero-shot AUROC: {result['auroc_note']}")
    return result


def _probe_split(context, eval_idx):
    """``(train, test, train_z, test_z, source)`` of the probe, or a skipped-section dict."""
    data, options = context.data, context.options
    if options.probe_data is None:
        subset = data.select(eval_idx)
        tr, te, source = person_halves(subset)
        if tr.size == 0 or te.size == 0:
            return context.skip("linear probe", "cannot split the days into train and test")
        subset_z = context.sensor_z[eval_idx]
        return subset.select(tr), subset.select(te), subset_z[tr], subset_z[te], source
    context.log("loading probe-training data")
    train = load_evaluation_data(options.probe_data, caption_variant=context.caption_variant,
                                 split="train", limit=options.probe_limit, labels=options.labels)
    train = train.align_channels(data.channel_names)
    if train.labels is None:
        raise InputValidationError(
            f"probe_data: {train.source} has no labels; the linear probe needs labelled days."
        )
    train_idx, _, _, _ = label_selection(train.labels, options.classes, options.include_none)
    if train_idx.size == 0:
        return context.skip("linear probe", "no probe-training day of the classes",
                            note="the probe-training data has no day of the classes")
    train = train.select(train_idx)
    context.log(f"encoding {len(train)} probe-training days")
    train_z = context.encode_sensor(train.sensor, "probe-train days")
    source = f"{train.source} ({len(train)} days)"
    return train, data.select(eval_idx), train_z, context.sensor_z[eval_idx], source


def linear_probe_section(context, eval_idx):
    """Few-shot linear probes on the trained encoder's embeddings of the days ``eval_idx``,
    the supervised raw-day reference and (optionally) the random-init encoder baseline."""
    options = context.options
    if eval_idx.size < 2:
        return context.skip("linear probe", "fewer than 2 labelled days")
    split = _probe_split(context, eval_idx)
    if isinstance(split, dict):
        return split
    train, test, train_z, test_z, source = split
    if len(set(train.labels)) < 2:
        return context.skip("linear probe", "the probe-training days have fewer than 2 classes",
                            train=source)
    context.log(f"linear probe: {len(train)} train / {len(test)} test days, k = "
                f"{', '.join(map(str, options.k_shots))}, {options.seeds} seed(s)")
    probe = dict(k_shots=options.k_shots, seeds=options.seeds, progress=options.progress)
    result = {
        "train": source,
        "sensorlm": few_shot_linear_probe(train_z, train.labels, test_z, test.labels,
                                          description="probe (trained encoder)", **probe),
    }
    unseen = result["sensorlm"]["unseen_test_classes"]
    if unseen:
        context.notes.append(
            f"linear probe: {result['sensorlm']['num_test_unseen']} test day(s) belong to "
            f"classes without probe-training days ({', '.join(unseen)}); they count as errors."
        )
    context.log("supervised reference on the raw days")
    result["supervised_raw_days"] = supervised_baseline(train.sensor, train.labels, test.sensor,
                                                        test.labels)
    if options.random_baseline:
        context.log("random-init encoder baseline")
        both = np.concatenate([train.sensor, test.sensor], axis=0)
        random_z = random_init_sensor_embeddings(context.model, both, seed=0,
                                                 batch_size=options.batch_size)
        result["random_init"] = few_shot_linear_probe(
            random_z[: len(train)], train.labels, random_z[len(train):], test.labels,
            description="probe (random init)", **probe,
        )
    return result
