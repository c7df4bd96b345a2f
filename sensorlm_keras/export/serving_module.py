"""`ServingModule`: the TensorFlow serving graph of a SensorLM export (TensorFlow backend only).

The module's ``tf.function`` methods are the SavedModel signatures listed in `SIGNATURES`.
It tracks only what the graph needs: the model's weights, the tensorflow-text SentencePiece
tokenizer (its model proto is part of the graph) and the two asset files
(``sensorlm_export.json`` and ``tokenizer.model``). The Keras model itself is not tracked, so
the SavedModel loads with TensorFlow + tensorflow-text alone (no Keras, no sensorlm_keras).

Every signature validates its inputs inside the graph (`ServingInputChecks`), so TensorFlow
Serving answers a bad request with a readable ``INVALID_ARGUMENT`` error.
"""

import types

import keras
import tensorflow as tf
import tensorflow_text as tf_text

from sensorlm_keras.data.captions.zero_shot_prompts import run_prompt_templates
from sensorlm_keras.export import serving_ops
from sensorlm_keras.export.serving_input_checks import ServingInputChecks
from sensorlm_keras.export.signatures import DEFAULT_SIGNATURE, SIGNATURES
from sensorlm_keras.losses.contrastive_ops import contrastive_logits

_SENSOR = tf.TensorSpec([None, None, None], tf.float32, name="sensor")
_SENSOR_MASK = tf.TensorSpec([None, None, None], tf.bool, name="sensor_mask")
_TEXTS = tf.TensorSpec([None], tf.string, name="texts")
_TOKEN_IDS = tf.TensorSpec([None, None], tf.int32, name="token_ids")
_PADDING_MASK = tf.TensorSpec([None, None], tf.bool, name="padding_mask")
_CLASS_NAMES = tf.TensorSpec([None], tf.string, name="class_names")
_PROMPT_TEMPLATES = tf.TensorSpec([None], tf.string, name="prompt_templates")


def _signature(*input_signature):
    return tf.function(input_signature=list(input_signature), autograph=False)


class ServingModule(tf.Module):
    """A ``tf.Module`` with one ``tf.function`` per signature of `SIGNATURES`.

    Args:
        model: a built `SensorLM` living on the TensorFlow backend.
        tokenizer: its `SensorLMTokenizer` (proto, sequence length, lower-casing).
        schema: the run's `ChannelSchema`.
        asset_paths: dict ``{"metadata": path, "tokenizer": path}`` of files that become
            ``assets/`` of the SavedModel.
        max_batch_size: the largest batch (sensor rows, texts, class names) a call may carry.
        max_text_length_chars: the longest text (Unicode characters) a call may carry.
        z_clip: the z-score clip of the training preprocessing (reported in ``metadata``).
        prompt_templates: the templates of the ``zero_shot`` signature (default
            `DEFAULT_PROMPT_TEMPLATES`; a run trained on labelled windows passes its own).

    Example:

    ```python
    module = ServingModule(run.model, run.tokenizer, run.schema, asset_paths,
                           max_batch_size=256, max_text_length_chars=20000, z_clip=5.0)
    tf.saved_model.save(module, path, signatures=module.serving_signatures())
    ```
    """

    def __init__(self, model, tokenizer, schema, asset_paths, max_batch_size,
                 max_text_length_chars, z_clip, prompt_templates=None):
        if keras.backend.backend() != "tensorflow":
            raise RuntimeError(
                "ServingModule: the serving graph needs the TensorFlow backend; received "
                f"{keras.backend.backend()!r}."
            )
        super().__init__(name="sensorlm_serving")
        cfg = model.config
        # Tracked state: weights (KerasVariables are trackable on the TF backend), the
        # SentencePiece resource and the asset files.
        self.model_weights = list(model.weights)
        self.sentencepiece = tf_text.SentencepieceTokenizer(
            model=tokenizer.proto, out_type=tf.int32, add_bos=False, add_eos=False
        )
        self.metadata_asset = tf.saved_model.Asset(asset_paths["metadata"])
        self.tokenizer_asset = tf.saved_model.Asset(asset_paths["tokenizer"])
        # Not tracked (a plain namespace is not a trackable): the Keras model is not saved.
        self._run = types.SimpleNamespace(
            model=model, tokenizer=tokenizer, schema=schema, z_clip=float(z_clip),
            sigmoid=model.loss_type == "sigmoid", text_length=int(tokenizer.text_length),
            templates=tuple(prompt_templates or run_prompt_templates(None)),
        )
        self._checks = ServingInputChecks(
            cfg.sequence_length, cfg.num_channels, cfg.vocabulary_size, cfg.max_text_length,
            max_batch_size=max_batch_size, max_text_length_chars=max_text_length_chars,
        )

    def serving_signatures(self):
        """``{name: concrete function}`` for every signature, ``serving_default`` included."""
        signatures = {name: getattr(self, name).get_concrete_function() for name in SIGNATURES}
        signatures["serving_default"] = signatures[DEFAULT_SIGNATURE]
        return signatures

    # ------------------------------------------------------------------ signatures
    @_signature(_SENSOR)
    def embed_sensor(self, sensor):
        """Finite z-scores ``(B, T, C)`` -> ``sensor_embeddings`` ``(B, D)``."""
        return {"sensor_embeddings": self._encode_sensor(self._checks.sensor(sensor))}

    @_signature(_SENSOR, _SENSOR_MASK)
    def embed_sensor_masked(self, sensor, sensor_mask):
        """Z-scores + ``sensor_mask`` (True = missing), imputed as in training -> embeddings."""
        sensor, sensor_mask = self._checks.masked_sensor(sensor, sensor_mask)
        imputed = serving_ops.impute_over_time(sensor, sensor_mask)
        return {"sensor_embeddings": self._encode_sensor(imputed)}

    @_signature(_TEXTS)
    def embed_text(self, texts):
        """``(N,)`` strings, tokenised in the graph -> ``text_embeddings`` ``(N, D)``."""
        return {"text_embeddings": self._encode_texts(self._checks.texts(texts))}

    @_signature(_TOKEN_IDS, _PADDING_MASK)
    def embed_text_ids(self, token_ids, padding_mask):
        """``(N, L)`` ids + mask (True = real token), any ``L <= max_text_length``."""
        token_ids, padding_mask = self._checks.token_ids(token_ids, padding_mask)
        return {"text_embeddings": self._encode_ids_any_length(token_ids, padding_mask)}

    @_signature(_TEXTS)
    def tokenize(self, texts):
        """``(N,)`` strings -> the training tokenizer's ``token_ids`` and ``padding_mask``."""
        token_ids, padding_mask = self._tokenize(self._checks.texts(texts))
        return {"token_ids": token_ids, "padding_mask": padding_mask}

    @_signature(_SENSOR, _TEXTS)
    def score(self, sensor, texts):
        """``(B, N)`` logits and probabilities (sigmoid, softmax over texts for CLIP)."""
        sensor_z = self._encode_sensor(self._checks.sensor(sensor))
        logits = self._logits(sensor_z, self._encode_texts(self._checks.texts(texts)))
        return {"logits": logits, "probabilities": self._probabilities(logits)}

    @_signature(_SENSOR, _CLASS_NAMES)
    def zero_shot(self, sensor, class_names):
        """Zero-shot over ``class_names`` with the evaluation's prompt templates."""
        templates = tf.constant(self._run.templates, tf.string)
        return self._zero_shot(sensor, class_names, templates)

    @_signature(_SENSOR, _CLASS_NAMES, _PROMPT_TEMPLATES)
    def zero_shot_templates(self, sensor, class_names, prompt_templates):
        """Zero-shot over ``class_names`` with the caller's prompt templates."""
        return self._zero_shot(sensor, class_names, self._checks.templates(prompt_templates))

    @_signature()
    def metadata(self):
        """Preprocessing constants, limits, the tokenizer proto and the export JSON."""
        run, checks = self._run, self._checks
        schema, model = run.schema, run.model
        return {
            "export_json": tf.io.read_file(self.metadata_asset.asset_path),
            "tokenizer_proto": tf.io.read_file(self.tokenizer_asset.asset_path),
            "channel_names": tf.constant(list(schema.names), tf.string),
            "channel_means": tf.constant([float(v) for v in schema.means], tf.float64),
            "channel_stds": tf.constant([float(v) for v in schema.stds], tf.float64),
            "channel_non_negative": tf.constant([bool(v) for v in schema.non_negative], tf.bool),
            "z_clip": tf.constant(run.z_clip, tf.float32),
            "sequence_length": tf.constant(checks.sequence_length, tf.int32),
            "num_channels": tf.constant(checks.num_channels, tf.int32),
            "text_length": tf.constant(run.text_length, tf.int32),
            "max_batch_size": tf.constant(checks.max_batch_size, tf.int32),
            "max_text_length_chars": tf.constant(checks.max_text_length_chars, tf.int32),
            "logit_scale": tf.cast(tf.convert_to_tensor(model.logit_scale), tf.float32),
            "logit_bias": tf.cast(tf.convert_to_tensor(model.logit_bias), tf.float32),
            "loss_type": tf.constant(model.loss_type, tf.string),
            "default_prompt_templates": tf.constant(run.templates, tf.string),
        }

    # ------------------------------------------------------------------ pieces
    def _tokenize(self, texts):
        tokenizer = self._run.tokenizer
        return serving_ops.tokenize(
            self.sentencepiece, texts, self._run.text_length, bool(tokenizer.lowercase),
            eos_id=int(tokenizer.eos_id), pad_id=int(tokenizer.pad_id),
        )

    def _encode_sensor(self, sensor):
        return tf.cast(self._run.model.sensor_encoder(sensor, training=False), tf.float32)

    def _encode_ids(self, token_ids, padding_mask):
        encoder = self._run.model.text_encoder
        return tf.cast(encoder(token_ids, padding_mask=padding_mask, training=False), tf.float32)

    def _encode_texts(self, texts):
        return self._encode_ids(*self._tokenize(texts))

    def _encode_ids_any_length(self, token_ids, padding_mask):
        """Pad ``(N, L)`` ids with masked padding to a static length (``text_length`` if ``L``
        fits, else ``max_text_length``) so the encoder graph has static shapes; padding is
        masked out of attention and pooling."""
        length = tf.shape(token_ids)[1]
        pad_id = int(self._run.tokenizer.pad_id)

        def padded_to(target):
            def encode():
                extra = [[0, 0], [0, target - length]]
                ids = tf.pad(token_ids, extra, constant_values=pad_id)
                mask = tf.pad(padding_mask, extra, constant_values=False)
                return self._encode_ids(
                    tf.ensure_shape(ids, [None, target]), tf.ensure_shape(mask, [None, target])
                )

            return encode

        short, longest = self._run.text_length, self._checks.max_text_length
        if short >= longest:
            return padded_to(longest)()
        return tf.cond(length <= short, padded_to(short), padded_to(longest))

    def _logits(self, sensor_z, text_z):
        model = self._run.model
        bias = model.logit_bias if self._run.sigmoid else None
        return contrastive_logits(sensor_z, text_z, model.logit_scale, bias)

    def _probabilities(self, logits):
        return tf.sigmoid(logits) if self._run.sigmoid else tf.nn.softmax(logits, axis=-1)

    def _class_embeddings(self, class_names, templates):
        """``(K,)`` names x ``(P,)`` templates -> ``(K, D)`` prompt-ensembled class embeddings:
        the re-normalised mean of the L2-normalised prompt embeddings."""
        prompts = serving_ops.fill_templates(class_names, templates)  # (K, P)
        flat = self._checks.texts(
            tf.reshape(prompts, [-1]), "prompt (template with class name)", check_batch=False
        )
        z = self._encode_texts(flat)  # (K * P, D)
        z = tf.reshape(z, tf.concat([tf.shape(prompts), tf.shape(z)[-1:]], axis=0))
        return tf.math.l2_normalize(tf.reduce_mean(z, axis=1), axis=-1)

    def _zero_shot(self, sensor, class_names, templates):
        sensor = self._checks.sensor(sensor)
        class_names = self._checks.texts(class_names, "class_names")
        logits = self._logits(self._encode_sensor(sensor),
                              self._class_embeddings(class_names, templates))
        index = tf.argmax(logits, axis=-1, output_type=tf.int32)
        return {
            "logits": logits,
            "probabilities": self._probabilities(logits),
            "class_distribution": tf.nn.softmax(logits, axis=-1),
            "predicted_index": index,
            "predicted_class": tf.gather(class_names, index),
        }
