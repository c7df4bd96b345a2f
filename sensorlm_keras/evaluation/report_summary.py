"""`format_summary`: one screen of text summarising an `evaluate_run` report, one function per
report section."""

import os

from sensorlm_keras.errors import InputValidationError, describe
from sensorlm_keras.evaluation.report import REPORT_FILENAME


def _fmt(value, digits=3):
    return "  n/a" if value is None else f"{value:.{digits}f}"


def _mean_std(row, key):
    return f"{row[f'{key}_mean']:.3f} ± {row[f'{key}_std']:.3f}"


def _data_lines(report):
    data = report["data"]
    lines = [
        f"SensorLM evaluation of {report['run']['directory']}",
        f"data: {data['source']}: {data['num_days']} days"
        + (f", {data['num_labelled']} used for classification" if "num_labelled" in data else ""),
    ]
    if "label_policy" in data:
        lines.append(f"      {data['label_policy']}")
    return lines


def _retrieval_lines(retrieval):
    if "skipped" in retrieval:
        return [f"retrieval: skipped ({retrieval['skipped']})"]
    ks = [k for k in retrieval["sensor_to_text"] if k.startswith("recall@")]
    lines = [
        f"retrieval ({retrieval['num_pairs']} pairs, ties={retrieval['ties']})".ljust(34)
        + "".join(f"{k.replace('recall', 'R'):>8}" for k in ks) + "  median rank"
    ]
    for name, key in (("sensor -> text", "sensor_to_text"), ("text -> sensor", "text_to_sensor"),
                      ("chance", "chance")):
        row = retrieval[key]
        lines.append(f"  {name:<32}" + "".join(f"{row[k]:>8.3f}" for k in ks)
                     + f"  {row['median_rank']:>11.1f}")
    return lines


def _zero_shot_lines(zero_shot):
    if "skipped" in zero_shot:
        return [f"zero-shot activity recognition: skipped ({zero_shot['skipped']})"]
    if not zero_shot:
        return []
    skipped = zero_shot.get("auroc_skipped") or []
    return [
        f"zero-shot activity recognition ({zero_shot['num_examples']} days, "
        f"{len(zero_shot['classes'])} classes, {len(zero_shot['templates'])} prompt templates)",
        f"  accuracy {_fmt(zero_shot['accuracy'])} (chance {_fmt(zero_shot['chance_accuracy'])})"
        f"   macro-F1 {_fmt(zero_shot['macro_f1'])}   AUROC {_fmt(zero_shot.get('auroc_macro'))}"
        + (f" ({len(skipped)} class(es) without days skipped)" if skipped else ""),
    ]


def _probe_lines(probe):
    if "skipped" in probe:
        return [f"linear probe: skipped ({probe['skipped']})"]
    if not probe:
        return []
    trained, random_init = probe["sensorlm"], probe.get("random_init")
    lines = [
        f"linear probe ({trained['num_train']} train / {trained['num_test']} test days, "
        f"majority baseline {_fmt(trained['majority_accuracy'])})",
        f"  probe-train: {probe['train']}",
        "  k".ljust(8) + "accuracy (SensorLM)".rjust(22) + "macro-F1".rjust(16)
        + ("accuracy (random init)".rjust(26) if random_init else ""),
    ]
    for k, row in trained["results"].items():
        line = (f"  {k:<6}" + _mean_std(row, "accuracy").rjust(22)
                + _mean_std(row, "macro_f1").rjust(16))
        if random_init:
            line += _mean_std(random_init["results"][k], "accuracy").rjust(26)
        lines.append(line + f"   (n={row['seeds']} seed{'s' if row['seeds'] > 1 else ''})")
    reference = probe.get("supervised_raw_days")
    if reference:
        lines.append(
            f"  supervised reference on the raw days (all labels, not embeddings): accuracy "
            f"{_fmt(reference['accuracy'])}, macro-F1 {_fmt(reference['macro_f1'])}"
        )
    return lines


def _files_lines(report):
    out = os.path.dirname(report.get("report_path", "")) or "."
    lines = [f"report: {report.get('report_path', REPORT_FILENAME)}"]
    if report.get("plots"):
        lines.append(f"plots:  {', '.join(report['plots'].values())} (in {out})")
    return lines + [f"note: {note}" for note in report.get("notes", [])[:5]]


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
    lines = _data_lines(report)
    for section in (_retrieval_lines(report.get("retrieval", {})),
                    _zero_shot_lines(report.get("zero_shot", {})),
                    _probe_lines(report.get("linear_probe", {})),
                    _files_lines(report)):
        lines += ["", *section]
    return "\n".join(lines)
