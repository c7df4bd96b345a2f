"""Build a small trained-run directory for evaluation / export / CLI tests (any backend), once
per test run even under pytest-xdist (`build_once`)."""

import fcntl
import shutil

import numpy as np


def build_once(root, build):
    """``build(root)`` unless a finished ``root`` exists; concurrent callers wait on a lock file
    (``flock``, released when the file closes) and then find it finished."""
    root.parent.mkdir(parents=True, exist_ok=True)
    with open(root.parent / f"{root.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (root / "done").exists():
            shutil.rmtree(root, ignore_errors=True)
            root.mkdir()
            build(root)
            (root / "done").write_text("ok")
    return root


def make_tiny_run(run_dir, num_people=4, days_per_person=2, seed=0, text_length=32, fit_steps=2,
                  patch_size=(60, 2)):
    """Synthetic days -> captions -> tokenizer -> tiny SensorLM (briefly fitted) -> run dir.

    Uses the real 1440 x 34 schema with a coarse (60, 2) patch (24 x 17 = 408 tokens) so the
    run stays fast. Returns the `RunArtifacts` written, plus the preprocessed data used.
    """
    import keras

    from sensorlm_keras import SensorLM
    from sensorlm_keras.data import CaptionGenerator, ChannelSchema, SyntheticDayGenerator
    from sensorlm_keras.data import preprocess_days
    from sensorlm_keras.tokenizers import SensorLMTokenizer, train_sentencepiece
    from sensorlm_keras.runs import load_run, save_run

    schema = ChannelSchema.default()
    days = SyntheticDayGenerator(schema).generate(num_people, days_per_person, seed=seed)
    pre = preprocess_days(days.raw, schema)
    kept = pre.kept_indices
    events = [days.events[i] for i in kept]
    captions = CaptionGenerator(schema, seed=seed).generate_batch(
        pre.sensor, masks=pre.mask, events_list=events
    )
    corpus = [c[v] for c in captions for v in ("high_summary", "low", "middle")]
    proto = train_sentencepiece(corpus, vocabulary_size=256, hard_vocab_limit=False)
    tokenizer = SensorLMTokenizer(proto, text_length=text_length)
    model = SensorLM.from_preset(
        "sensorlm_tiny",
        patch_size=patch_size,
        vocabulary_size=tokenizer.vocabulary_size,
        max_text_length=64,
        sensor_num_layers=1,
        text_num_layers=1,
    )
    tokens = tokenizer([c["high_summary"] for c in captions])
    batch = {
        "sensor": pre.sensor,
        "sensor_mask": pre.mask,
        "token_ids": np.asarray(tokens["token_ids"]),
        "padding_mask": np.asarray(tokens["padding_mask"]),
    }
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    for _ in range(fit_steps):
        model.train_on_batch(batch)
    save_run(run_dir, model, tokenizer, schema, text_length=text_length)
    run = load_run(run_dir)
    return run, batch, captions, [days.activity_labels[i] for i in kept]
