"""`evaluate_captions`: generate captions for held-out days and score them against the
reference captions (BLEU-4, ROUGE-L) and against the days themselves (factual checks)."""

import numpy as np

from sensorlm_keras.errors import ConfigError, DataError, InputValidationError
from sensorlm_keras.evaluation.caption_facts import CHECKS, caption_fact_accuracy
from sensorlm_keras.evaluation.caption_metrics import corpus_bleu_details, rouge_l
from sensorlm_keras.utils.validation import check_int, check_positive_int


def _heart_rate(data, schema):
    """De-normalised heart rate ``(N, T)`` in bpm, or None without an ``HR`` channel."""
    names = list(data.channel_names) if data.channel_names is not None else None
    if schema is None or names is None or "HR" not in names or "HR" not in list(schema.names):
        return None
    s = list(schema.names).index("HR")
    hr = data.sensor[:, :, names.index("HR")].astype(np.float64) * schema.stds[s] + schema.means[s]
    if data.mask is not None:
        hr = np.where(data.mask[:, :, names.index("HR")], np.nan, hr)
    return hr


def _summary(facts):
    return {check: facts[check] for check in (*CHECKS, "overall")}


def evaluate_captions(model, data, tokenizer, schema=None, strategy="greedy", max_length=None,
                      num_beams=4, top_p=0.9, seed=0, batch_size=16, limit=None,
                      caption_variant="high_summary", split="test", num_samples=5,
                      progress=False):
    """Caption held-out days with a `SensorLMCoCa` and score the captions.

    Args:
        model: a trained `SensorLMCoCa`.
        data: anything `load_evaluation_data` accepts (TFRecord dataset root/split/shards,
            ``.npz``, `WearableDays` such as synthetic days, `EvaluationData`).
        tokenizer: the run's `SensorLMTokenizer` (ids -> text).
        schema: optional `ChannelSchema` (de-normalises heart rate for the heart-rate check).
        strategy, max_length, num_beams, top_p, seed: `SensorLMCoCa.generate` arguments
            (``max_length`` defaults to the tokenizer's sequence length).
        batch_size: days generated together.
        limit: caption at most this many days.
        caption_variant: the reference caption variant.
        split: split of a dataset root.
        num_samples: generated/reference pairs copied into the report.
        progress: show a tqdm progress bar.

    Returns:
        dict with ``bleu4``, ``rouge_l`` (F), their details, ``facts`` (per-check accuracy of
        the generated captions), ``reference_facts`` (the same checks on the reference
        captions: how much of the parser's reach the references cover), ``samples`` and
        ``generated`` (every caption).
    """
    from sensorlm_keras.evaluation.data_loading import load_evaluation_data
    from sensorlm_keras.models.sensorlm_coca import SensorLMCoCa

    if not isinstance(model, SensorLMCoCa):
        raise ConfigError(
            f"evaluate_captions(model): expected a SensorLMCoCa (a model with a captioning "
            f"decoder), received {type(model).__name__}; train a sensorlm_coca_* preset."
        )
    batch_size = check_positive_int(batch_size, "batch_size", error=InputValidationError)
    num_samples = check_int(num_samples, "num_samples", minimum=0, error=InputValidationError)
    days = load_evaluation_data(data, caption_variant=caption_variant, split=split, limit=limit)
    if days.captions is None:
        raise DataError(f"data: the days have no reference captions ({days.source}).")
    if max_length is None:
        max_length = min(int(tokenizer.text_length), model.caption_decoder.max_text_length)
    n = len(days)
    generated = _generate(model, days.sensor, tokenizer, batch_size, progress,
                          max_length=max_length, strategy=strategy, num_beams=num_beams,
                          top_p=top_p, seed=seed)
    references = list(days.captions)
    bleu = corpus_bleu_details(generated, references)
    rouge = rouge_l(generated, references)
    events = days.events if days.events is not None else [[] for _ in range(n)]
    heart_rate = _heart_rate(days, schema)
    facts = caption_fact_accuracy(generated, events, heart_rates=heart_rate)
    reference_facts = caption_fact_accuracy(references, events, heart_rates=heart_rate)
    return {
        "num_days": n,
        "source": days.source,
        "caption_variant": caption_variant,
        "strategy": strategy,
        "max_length": int(max_length),
        "bleu4": bleu["bleu"],
        "bleu_details": bleu,
        "rouge_l": rouge["f"],
        "rouge_l_details": rouge,
        "facts": _summary(facts),
        "reference_facts": _summary(reference_facts),
        "samples": _samples(days, generated, facts, num_samples),
        "generated": generated,
    }


def _generate(model, sensor, tokenizer, batch_size, progress, seed, strategy, **options):
    """Captions of every day, ``batch_size`` days at a time (top-p seeds offset per batch)."""
    from tqdm.auto import tqdm

    generated = []
    with tqdm(total=len(sensor), desc=f"captioning ({strategy})", unit="day",
              disable=not progress) as bar:
        for start in range(0, len(sensor), batch_size):
            chunk = sensor[start : start + batch_size]
            generated += list(
                model.generate(chunk, strategy=strategy,
                               seed=None if seed is None else int(seed) + start,
                               tokenizer=tokenizer, batch_size=batch_size, **options)
            )
            bar.update(len(chunk))
    return generated


def _samples(days, generated, facts, num_samples):
    """The first ``num_samples`` generated/reference pairs with their fact checks."""
    return [
        {
            "index": i,
            "person_id": None if days.person_ids is None else str(days.person_ids[i]),
            "day_index": None if days.day_index is None else int(days.day_index[i]),
            "generated": generated[i],
            "reference": days.captions[i],
            "facts": facts["per_caption"][i],
        }
        for i in range(min(num_samples, len(days)))
    ]


def format_caption_summary(report, samples=3):
    """A short text summary of an `evaluate_captions` report."""
    lines = [
        f"Captioned {report['num_days']} days ({report['strategy']}, max {report['max_length']} "
        f"tokens, reference variant {report['caption_variant']})",
        f"  BLEU-4   {report['bleu4']:.4f}",
        f"  ROUGE-L  {report['rouge_l']:.4f}",
    ]
    overall = report["facts"]["overall"]
    acc = overall["accuracy"]
    lines.append(
        f"  facts    {'n/a' if acc is None else f'{acc:.3f}'} over {overall['applicable']} "
        "applicable checks"
    )
    for check in CHECKS:
        f = report["facts"][check]
        if f["applicable"]:
            lines.append(f"    {check:<20s} {f['accuracy']:.3f} ({f['applicable']})")
    for s in report["samples"][:samples]:
        lines.append(f"  day {s['index']}: generated: {s['generated']}")
        lines.append(f"  {'':>{len(str(s['index'])) + 4}}  reference: {s['reference']}")
    return "\n".join(lines)
