"""Evaluation of trained SensorLM runs: zero-shot classification, cross-modal retrieval,
few-shot linear probes and the `evaluate_run` report (``sensorlm eval`` on the command line).

The metrics are NumPy / scikit-learn code on embeddings (caption metrics: sacrebleu and
rouge-score); models are used only through their public ``encode_sensor``, ``encode_text`` and
``similarity`` methods, so every Keras backend works. Figures use matplotlib's Agg canvas.

Files: `report` (`evaluate_run`) with its sections in `report_classification` and its text in
`report_summary`; metrics in `retrieval`, `classification_metrics`, `linear_probe`,
`caption_metrics`, `caption_facts`; inputs in `evaluation_data` / `data_loading`.

Example:

```python
from sensorlm_keras.evaluation import evaluate_run, format_summary

report = evaluate_run("runs/tiny", "data/synth/test", out_dir="runs/tiny/eval")
print(format_summary(report))
```
"""

from sensorlm_keras.evaluation.caption_facts import caption_fact_accuracy, check_caption
from sensorlm_keras.evaluation.caption_metrics import corpus_bleu, rouge_l
from sensorlm_keras.evaluation.classification_metrics import (
    binary_auroc,
    classification_metrics,
    confusion_matrix,
)
from sensorlm_keras.evaluation.data_loading import load_evaluation_data
from sensorlm_keras.evaluation.evaluation_data import EvaluationData, activity_label_from_events
from sensorlm_keras.evaluation.linear_probe import (
    DEFAULT_K_SHOTS,
    few_shot_linear_probe,
    random_init_sensor_embeddings,
    sample_k_shot,
)
from sensorlm_keras.evaluation.report import evaluate_run, write_json_atomic
from sensorlm_keras.evaluation.report_summary import format_summary
from sensorlm_keras.evaluation.retrieval import (
    recall_at_k,
    recall_curve,
    retrieval_metrics,
    retrieval_ranks,
)
from sensorlm_keras.evaluation.supervised_baseline import day_features, supervised_baseline
from sensorlm_keras.evaluation.zero_shot import (
    DEFAULT_PROMPT_TEMPLATES,
    NONE_PROMPTS,
    ZeroShotClassifier,
)

__all__ = [
    "DEFAULT_K_SHOTS",
    "DEFAULT_PROMPT_TEMPLATES",
    "EvaluationData",
    "NONE_PROMPTS",
    "ZeroShotClassifier",
    "activity_label_from_events",
    "binary_auroc",
    "caption_fact_accuracy",
    "check_caption",
    "classification_metrics",
    "confusion_matrix",
    "corpus_bleu",
    "day_features",
    "evaluate_run",
    "few_shot_linear_probe",
    "format_summary",
    "load_evaluation_data",
    "random_init_sensor_embeddings",
    "recall_at_k",
    "recall_curve",
    "retrieval_metrics",
    "retrieval_ranks",
    "rouge_l",
    "sample_k_shot",
    "supervised_baseline",
    "write_json_atomic",
]
