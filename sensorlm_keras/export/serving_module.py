"""The TensorFlow serving graph of a SensorLM export (TensorFlow backend only).

`build_serving_module` wraps a loaded SensorLM run in a ``tf.Module`` whose ``tf.function``
attributes become the SavedModel signatures listed in `SIGNATURES`. The module tracks only what
the graph needs: the model's weights, the tensorflow-text SentencePiece tokenizer (its model
proto is part of the graph) and the two asset files (``sensorlm_export.json`` and
``tokenizer.model``). The Keras model itself is not tracked, so the SavedModel loads with
TensorFlow + tensorflow-text alone (no Keras, no sensorlm_keras).

Every signature validates its inputs inside the graph with ``tf.debugging`` assertions whose
messages name the violated limit (batch size, text length, sensor shape, finite values, ...),
so TensorFlow Serving answers a bad request with a readable ``INVALID_ARGUMENT`` error.
"""

import keras

from sensorlm_keras.data.captions.zero_shot_prompts import DEFAULT_PROMPT_TEMPLATES

# Name of each signature -> one-line description (in registration order; serving_default is
# embed_sensor).
SIGNATURES = {
    "embed_sensor": "z-scored sensor batch (B, T, C) -> sensor_embeddings (B, D)",
    "embed_sensor_masked": "z-scores (B, T, C) + sensor_mask (True = missing) -> missing cells "
    "imputed as in training -> sensor_embeddings (B, D)",
    "embed_text": "texts (N,) tokenised in the graph -> text_embeddings (N, D)",
    "embed_text_ids": "token_ids (N, L) + padding_mask (N, L) -> text_embeddings (N, D)",
    "tokenize": "texts (N,) -> token_ids (N, L), padding_mask (N, L) (the training tokenizer)",
    "score": "sensor (B, T, C) + texts (N,) -> logits and probabilities (B, N)",
    "zero_shot": "sensor (B, T, C) + class_names (K,) with the evaluation's prompt templates -> "
    "probabilities (B, K), predicted_index (B,)",
    "zero_shot_templates": "sensor (B, T, C) + class_names (K,) + prompt_templates (P,) -> "
    "probabilities (B, K), predicted_index (B,)",
    "metadata": "no inputs -> preprocessing constants, tokenizer proto, export JSON",
}
DEFAULT_SIGNATURE = "embed_sensor"

MAX_PROMPT_TEMPLATES = 16
PLACEHOLDER = "{}"


def build_serving_module(
    model,
    tokenizer,
    schema,
    metadata,
    asset_paths,
    max_batch_size,
    max_text_length_chars,
    z_clip,
):
    """A ``tf.Module`` with one ``tf.function`` per signature of `SIGNATURES`.

    Args:
        model: a built `SensorLM` living on the TensorFlow backend.
        tokenizer: its `SensorLMTokenizer` (proto, sequence length, lower-casing).
        schema: the run's `ChannelSchema`.
        metadata: the JSON-serialisable export description (written to the assets).
        asset_paths: dict ``{"metadata": path, "tokenizer": path}`` of files that become
            ``assets/`` of the SavedModel.
        max_batch_size: the largest batch (sensor rows, texts, class names) a call may carry.
        max_text_length_chars: the longest text (Unicode characters) a call may carry.
        z_clip: the z-score clip of the training preprocessing (reported in ``metadata``).

    Returns:
        ``(module, signatures)``: the module to save and the dict of signature concrete
        functions (including ``serving_default``) for ``tf.saved_model.save``.
    """
    import tensorflow as tf
    import tensorflow_text as tf_text

    if keras.backend.backend() != "tensorflow":
        raise RuntimeError(
            "build_serving_module: the serving graph needs the TensorFlow backend; received "
            f"{keras.backend.backend()!r}."
        )
    cfg = model.config
    seq_len, num_channels = int(cfg.sequence_length), int(cfg.num_channels)
    vocab = int(cfg.vocabulary_size)
    max_ids_len = int(cfg.max_text_length)
    text_length = int(tokenizer.sequence_length)
    lowercase = bool(tokenizer.lowercase)
    pad_id, eos_id = int(tokenizer.pad_id), int(tokenizer.eos_id)
    sigmoid = model.loss_type == "sigmoid"
    max_batch = int(max_batch_size)
    max_chars = int(max_text_length_chars)

    module = tf.Module(name="sensorlm_serving")
    # Tracked state: weights (KerasVariables are trackable on the TF backend), the SentencePiece
    # resource and the asset files. The Keras model object is deliberately not an attribute.
    module.model_weights = list(model.weights)
    module.sentencepiece = tf_text.SentencepieceTokenizer(
        model=tokenizer.proto, out_type=tf.int32, add_bos=False, add_eos=False
    )
    module.metadata_asset = tf.saved_model.Asset(asset_paths["metadata"])
    module.tokenizer_asset = tf.saved_model.Asset(asset_paths["tokenizer"])
    sentencepiece = module.sentencepiece

    sensor_shape_text = f"(batch, {seq_len}, {num_channels})"

    # ---------------------------------------------------------------- checks
    def _after(checks, *tensors):
        with tf.control_dependencies(checks):
            out = tuple(tf.identity(t) for t in tensors)
        return out if len(out) > 1 else out[0]

    def _batch_checks(n, field):
        return [
            tf.debugging.assert_greater_equal(
                n, 1, message=f"{field}: the batch is empty; send at least 1 item"
            ),
            tf.debugging.assert_less_equal(
                n,
                max_batch,
                message=f"{field}: batch size exceeds the serving limit max_batch_size={max_batch}",
            ),
        ]

    def _check_sensor(sensor, missing=None, field="sensor"):
        shape = tf.shape(sensor)
        rank_ok = tf.debugging.assert_equal(
            tf.rank(sensor), 3, message=f"{field}: expected rank 3 {sensor_shape_text}"
        )
        with tf.control_dependencies([rank_ok]):
            shape_ok = tf.debugging.assert_equal(
                shape[1:],
                tf.constant([seq_len, num_channels], tf.int32),
                message=f"{field}: the model expects shape {sensor_shape_text} (minutes, channels)",
            )
        checks = [rank_ok, shape_ok] + _batch_checks(shape[0], field)
        with tf.control_dependencies(checks):
            finite = tf.math.is_finite(sensor)
            if missing is not None:
                checks.append(
                    tf.debugging.assert_equal(
                        tf.shape(missing),
                        shape,
                        message=f"sensor_mask: must have the same shape as {field} "
                        f"{sensor_shape_text}",
                    )
                )
                with tf.control_dependencies(checks):
                    finite = tf.logical_or(finite, missing)
            checks.append(
                tf.debugging.assert_equal(
                    tf.reduce_all(finite),
                    True,
                    message=f"{field}: values must be finite (no NaN/Inf)"
                    + ("" if missing is not None else "; mark missing cells with "
                       "embed_sensor_masked's sensor_mask"),
                )
            )
        sensor = _after(checks, sensor)
        return tf.ensure_shape(sensor, [None, seq_len, num_channels])

    def _check_texts(texts, field="texts", check_batch=True):
        lengths = tf.strings.length(texts, unit="UTF8_CHAR")
        checks = _batch_checks(tf.size(texts), field) if check_batch else []
        checks.append(
            tf.debugging.assert_less_equal(
                tf.reduce_max(tf.concat([lengths, [0]], axis=0)),
                max_chars,
                message=f"{field}: a text exceeds the serving limit "
                f"max_text_length_chars={max_chars}",
            )
        )
        return _after(checks, texts)

    # ---------------------------------------------------------------- pieces
    def _tokenize(texts):
        if lowercase:
            texts = tf.strings.lower(texts, encoding="utf-8")
        pieces = sentencepiece.tokenize(texts)
        if not isinstance(pieces, tf.RaggedTensor):
            pieces = tf.RaggedTensor.from_tensor(pieces)
        pieces = tf.cast(pieces, tf.int32)[:, : text_length - 1]
        eos = tf.fill(tf.stack([tf.shape(texts)[0], 1]), tf.constant(eos_id, tf.int32))
        ids = tf.concat([pieces, tf.RaggedTensor.from_tensor(eos)], axis=1)
        token_ids = ids.to_tensor(default_value=pad_id, shape=[None, text_length])
        padding_mask = tf.sequence_mask(ids.row_lengths(), text_length)
        return token_ids, padding_mask

    def _encode_sensor(sensor):
        return tf.cast(model.sensor_encoder(sensor, training=False), tf.float32)

    def _encode_ids(token_ids, padding_mask):
        return tf.cast(
            model.text_encoder(token_ids, padding_mask=padding_mask, training=False), tf.float32
        )

    def _encode_ids_any_length(token_ids, padding_mask):
        """Pad (N, L) ids to a static length (text_length if L fits, else max_text_length) with
        masked padding, so the encoder graph has static shapes; padding is masked out of
        attention and pooling."""
        length = tf.shape(token_ids)[1]

        def padded(target):
            def branch():
                extra = [[0, 0], [0, target - length]]
                ids = tf.pad(token_ids, extra, constant_values=pad_id)
                mask = tf.pad(padding_mask, extra, constant_values=False)
                return _encode_ids(
                    tf.ensure_shape(ids, [None, target]), tf.ensure_shape(mask, [None, target])
                )

            return branch

        if text_length >= max_ids_len:
            return padded(max_ids_len)()
        return tf.cond(length <= text_length, padded(text_length), padded(max_ids_len))

    def _encode_texts(texts):
        return _encode_ids(*_tokenize(texts))

    def _logits(sensor_z, text_z):
        logits = tf.matmul(sensor_z, text_z, transpose_b=True) * tf.exp(
            tf.cast(tf.convert_to_tensor(model.logit_scale), tf.float32)
        )
        if sigmoid:
            logits = logits + tf.cast(tf.convert_to_tensor(model.logit_bias), tf.float32)
        return logits

    def _probabilities(logits):
        return tf.sigmoid(logits) if sigmoid else tf.nn.softmax(logits, axis=-1)

    def _impute(sensor, missing):
        """Linear interpolation over time per channel, then edge fill, then 0 (as in
        `sensorlm_keras.data.preprocessing.impute_over_time`)."""
        x = tf.transpose(sensor, [0, 2, 1])  # (B, C, T)
        valid = tf.logical_not(tf.transpose(missing, [0, 2, 1]))
        t = tf.range(seq_len, dtype=tf.int32)
        t = tf.broadcast_to(t, tf.shape(x))
        prev = tf.where(valid, t, -1)
        nxt = tf.where(valid, t, seq_len)
        shift = 1
        while shift < seq_len:  # log-step running max / min over time (static loop)
            prev = tf.maximum(prev, tf.pad(prev[:, :, :-shift], [[0, 0], [0, 0], [shift, 0]],
                                           constant_values=-1))
            nxt = tf.minimum(nxt, tf.pad(nxt[:, :, shift:], [[0, 0], [0, 0], [0, shift]],
                                         constant_values=seq_len))
            shift *= 2
        has_prev, has_next = prev >= 0, nxt < seq_len
        filled = tf.where(valid, x, tf.zeros_like(x))
        v_prev = tf.gather(filled, tf.clip_by_value(prev, 0, seq_len - 1), axis=2, batch_dims=2)
        v_next = tf.gather(filled, tf.clip_by_value(nxt, 0, seq_len - 1), axis=2, batch_dims=2)
        weight = tf.cast(t - prev, tf.float32) / tf.cast(tf.maximum(nxt - prev, 1), tf.float32)
        interp = v_prev + (v_next - v_prev) * weight
        edge = tf.where(has_next, v_next, tf.where(has_prev, v_prev, tf.zeros_like(x)))
        out = tf.where(valid, x, tf.where(has_prev & has_next, interp, edge))
        return tf.transpose(out, [0, 2, 1])

    def _class_embeddings(class_names, templates):
        """(K,) names x (P,) templates -> (K, D) prompt-ensembled class embeddings."""
        class_names = _check_texts(class_names, "class_names")
        num_templates = tf.size(templates)
        checks = [
            tf.debugging.assert_greater_equal(
                num_templates, 1, message="prompt_templates: send at least 1 template"
            ),
            tf.debugging.assert_less_equal(
                num_templates,
                MAX_PROMPT_TEMPLATES,
                message="prompt_templates: more than the serving limit "
                f"max_prompt_templates={MAX_PROMPT_TEMPLATES}",
            ),
            tf.debugging.assert_equal(
                tf.reduce_all(tf.equal(tf.strings.split(templates, PLACEHOLDER).row_lengths(), 2)),
                True,
                message="prompt_templates: every template must contain the placeholder {} "
                "exactly once",
            ),
        ]
        templates = _after(checks, templates)
        parts = tf.strings.split(templates, PLACEHOLDER).to_tensor()  # (P, 2)
        k, p = tf.size(class_names), tf.size(templates)
        prefix = tf.broadcast_to(parts[None, :, 0], tf.stack([k, p]))
        suffix = tf.broadcast_to(parts[None, :, 1], tf.stack([k, p]))
        names = tf.broadcast_to(class_names[:, None], tf.stack([k, p]))
        prompts = tf.strings.join([prefix, names, suffix])  # (K, P)
        prompts = _check_texts(
            tf.reshape(prompts, [-1]), "prompt (template with class name)", check_batch=False
        )
        z = _encode_texts(prompts)  # (K * P, D)
        z = tf.reshape(z, tf.stack([k, p, tf.shape(z)[-1]]))
        return tf.math.l2_normalize(tf.reduce_mean(z, axis=1), axis=-1)

    def _zero_shot(sensor, class_names, templates):
        sensor = _check_sensor(sensor)
        class_z = _class_embeddings(class_names, templates)
        logits = _logits(_encode_sensor(sensor), class_z)
        index = tf.argmax(logits, axis=-1, output_type=tf.int32)
        return {
            "logits": logits,
            "probabilities": _probabilities(logits),
            "class_distribution": tf.nn.softmax(logits, axis=-1),
            "predicted_index": index,
            "predicted_class": tf.gather(class_names, index),
        }

    # ---------------------------------------------------------------- signatures
    sensor_spec = tf.TensorSpec([None, None, None], tf.float32, name="sensor")
    mask_spec = tf.TensorSpec([None, None, None], tf.bool, name="sensor_mask")
    texts_spec = tf.TensorSpec([None], tf.string, name="texts")

    def embed_sensor(sensor):
        return {"sensor_embeddings": _encode_sensor(_check_sensor(sensor))}

    def embed_sensor_masked(sensor, sensor_mask):
        sensor = _check_sensor(sensor, missing=sensor_mask)
        mask = tf.ensure_shape(sensor_mask, [None, seq_len, num_channels])
        return {"sensor_embeddings": _encode_sensor(_impute(sensor, mask))}

    def embed_text(texts):
        return {"text_embeddings": _encode_texts(_check_texts(texts))}

    def embed_text_ids(token_ids, padding_mask):
        shape = tf.shape(token_ids)
        checks = _batch_checks(shape[0], "token_ids")
        checks += [
            tf.debugging.assert_less_equal(
                shape[1],
                max_ids_len,
                message=f"token_ids: length exceeds the model's max_text_length={max_ids_len}",
            ),
            tf.debugging.assert_greater_equal(
                shape[1], 1, message="token_ids: expected at least 1 token per row"
            ),
            tf.debugging.assert_equal(
                tf.shape(padding_mask),
                shape,
                message="padding_mask: must have the same shape as token_ids",
            ),
            tf.debugging.assert_equal(
                tf.reduce_all((token_ids >= 0) & (token_ids < vocab)),
                True,
                message=f"token_ids: ids must lie in [0, {vocab - 1}] (vocabulary_size={vocab})",
            ),
        ]
        token_ids, padding_mask = _after(checks, token_ids, padding_mask)
        return {"text_embeddings": _encode_ids_any_length(token_ids, padding_mask)}

    def tokenize(texts):
        token_ids, padding_mask = _tokenize(_check_texts(texts))
        return {"token_ids": token_ids, "padding_mask": padding_mask}

    def score(sensor, texts):
        logits = _logits(_encode_sensor(_check_sensor(sensor)), _encode_texts(_check_texts(texts)))
        return {"logits": logits, "probabilities": _probabilities(logits)}

    def zero_shot(sensor, class_names):
        return _zero_shot(sensor, class_names, tf.constant(DEFAULT_PROMPT_TEMPLATES, tf.string))

    def zero_shot_templates(sensor, class_names, prompt_templates):
        return _zero_shot(sensor, class_names, prompt_templates)

    means = [float(v) for v in schema.means]
    stds = [float(v) for v in schema.stds]

    def metadata_fn():
        return {
            "export_json": tf.io.read_file(module.metadata_asset.asset_path),
            "tokenizer_proto": tf.io.read_file(module.tokenizer_asset.asset_path),
            "channel_names": tf.constant(list(schema.names), tf.string),
            "channel_means": tf.constant(means, tf.float64),
            "channel_stds": tf.constant(stds, tf.float64),
            "channel_non_negative": tf.constant([bool(v) for v in schema.non_negative], tf.bool),
            "z_clip": tf.constant(float(z_clip), tf.float32),
            "sequence_length": tf.constant(seq_len, tf.int32),
            "num_channels": tf.constant(num_channels, tf.int32),
            "text_length": tf.constant(text_length, tf.int32),
            "max_batch_size": tf.constant(max_batch, tf.int32),
            "max_text_length_chars": tf.constant(max_chars, tf.int32),
            "logit_scale": tf.cast(tf.convert_to_tensor(model.logit_scale), tf.float32),
            "logit_bias": tf.cast(tf.convert_to_tensor(model.logit_bias), tf.float32),
            "loss_type": tf.constant(model.loss_type, tf.string),
            "default_prompt_templates": tf.constant(DEFAULT_PROMPT_TEMPLATES, tf.string),
        }

    specs = {
        "embed_sensor": (embed_sensor, [sensor_spec]),
        "embed_sensor_masked": (embed_sensor_masked, [sensor_spec, mask_spec]),
        "embed_text": (embed_text, [texts_spec]),
        "embed_text_ids": (
            embed_text_ids,
            [
                tf.TensorSpec([None, None], tf.int32, name="token_ids"),
                tf.TensorSpec([None, None], tf.bool, name="padding_mask"),
            ],
        ),
        "tokenize": (tokenize, [texts_spec]),
        "score": (score, [sensor_spec, texts_spec]),
        "zero_shot": (zero_shot, [sensor_spec, tf.TensorSpec([None], tf.string, name="class_names")]),
        "zero_shot_templates": (
            zero_shot_templates,
            [
                sensor_spec,
                tf.TensorSpec([None], tf.string, name="class_names"),
                tf.TensorSpec([None], tf.string, name="prompt_templates"),
            ],
        ),
        "metadata": (metadata_fn, []),
    }
    assert list(specs) == list(SIGNATURES)
    signatures = {}
    for name, (fn, input_signature) in specs.items():
        function = tf.function(fn, input_signature=input_signature, autograph=False)
        setattr(module, name, function)
        signatures[name] = function.get_concrete_function()
    signatures["serving_default"] = signatures[DEFAULT_SIGNATURE]
    return module, signatures
