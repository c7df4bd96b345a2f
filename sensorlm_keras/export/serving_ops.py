"""TensorFlow ops of the serving graph that reproduce the Python preprocessing in-graph.

- `tokenize`: the `SensorLMTokenizer` recipe (lower-case, SentencePiece ids, truncate to
  ``text_length - 1`` pieces, append EOS, pad) on a tensorflow-text SentencePiece op.
- `impute_over_time`: `sensorlm_keras.data.preprocessing.impute_over_time` on ``(B, T, C)``
  tensors (linear interpolation over time per channel, then edge fill, then 0).
- `fill_templates`: every class name put into every prompt template.

Each is tested against its Python counterpart in ``tests/export`` (identical token ids,
embeddings within 1e-4).
"""

import tensorflow as tf
import tensorflow_text as tf_text

from sensorlm_keras.export.signatures import PLACEHOLDER


def tokenize(sentencepiece, texts, text_length, lowercase, eos_id, pad_id):
    """``(N,)`` strings -> ``token_ids`` int32 and ``padding_mask`` bool, both ``(N, L)``.

    Args:
        sentencepiece: a ``tensorflow_text.SentencepieceTokenizer`` (int32 ids, no BOS/EOS).
        texts: ``(N,)`` ``tf.string``.
        text_length: ``L``, EOS included.
        lowercase: lower-case the texts first (UTF-8 aware).
        eos_id, pad_id: the tokenizer's EOS and padding ids.
    """
    if lowercase:
        texts = tf.strings.lower(texts, encoding="utf-8")
    pieces = tf.cast(sentencepiece.tokenize(texts), tf.int32)[:, : text_length - 1]
    eos = tf.fill(tf.stack([tf.size(texts), 1]), tf.constant(eos_id, tf.int32))
    ids = tf.concat([pieces, tf.RaggedTensor.from_tensor(eos)], axis=1)
    token_ids, mask = tf_text.pad_model_inputs(ids, text_length, pad_value=pad_id)
    return token_ids, tf.cast(mask, tf.bool)


def _last_valid_index(valid):
    """``(B, C, T)`` bools -> the index of the latest valid step at or before each step (-1:
    none), i.e. ``np.maximum.accumulate(where(valid, t, -1))`` in log2(T) static steps."""
    length = valid.shape[-1]
    index = tf.where(valid, tf.range(length), -1)
    shift = 1
    while shift < length:
        earlier = tf.pad(index[..., :-shift], [[0, 0], [0, 0], [shift, 0]], constant_values=-1)
        index = tf.maximum(index, earlier)
        shift *= 2
    return index


def impute_over_time(sensor, missing):
    """Fill the ``missing`` cells of a ``(B, T, C)`` batch over time, as in training.

    Per channel: linear interpolation between the nearest observed minutes, the nearest
    observed value at the edges, 0 for a channel missing all day. ``T`` must be static.

    Args:
        sensor: ``(B, T, C)`` float32; missing cells may hold any finite value.
        missing: ``(B, T, C)`` bool, True = missing.
    """
    x = tf.transpose(sensor, [0, 2, 1])  # (B, C, T)
    valid = tf.logical_not(tf.transpose(missing, [0, 2, 1]))
    length = x.shape[-1]
    prev = _last_valid_index(valid)
    nxt = length - 1 - tf.reverse(_last_valid_index(tf.reverse(valid, [-1])), [-1])
    has_prev, has_next = prev >= 0, nxt < length
    filled = tf.where(valid, x, tf.zeros_like(x))
    v_prev = tf.gather(filled, tf.clip_by_value(prev, 0, length - 1), axis=2, batch_dims=2)
    v_next = tf.gather(filled, tf.clip_by_value(nxt, 0, length - 1), axis=2, batch_dims=2)
    step = tf.range(length) - prev
    weight = tf.cast(step, tf.float32) / tf.cast(tf.maximum(nxt - prev, 1), tf.float32)
    interp = v_prev + (v_next - v_prev) * weight
    edge = tf.where(has_next, v_next, tf.where(has_prev, v_prev, tf.zeros_like(x)))
    out = tf.where(valid, x, tf.where(has_prev & has_next, interp, edge))
    return tf.transpose(out, [0, 2, 1])


def fill_templates(class_names, templates):
    """``(K,)`` names x ``(P,)`` templates (one `PLACEHOLDER` each) -> ``(K, P)`` prompts."""
    parts = tf.strings.split(templates, PLACEHOLDER).to_tensor()  # (P, 2): prefix, suffix
    grid = tf.stack([tf.size(class_names), tf.size(templates)])
    prefix = tf.broadcast_to(parts[None, :, 0], grid)
    suffix = tf.broadcast_to(parts[None, :, 1], grid)
    names = tf.broadcast_to(class_names[:, None], grid)
    return tf.strings.join([prefix, names, suffix])
