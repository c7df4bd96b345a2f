"""`SensorLMCoCa`: SensorLM's generic architecture (contrastive + captioning, CoCa-style)."""

import keras
import numpy as np
from keras import ops

from sensorlm_keras import backend
from sensorlm_keras.errors import ConfigError, InputValidationError
from sensorlm_keras.models import caption_search
from sensorlm_keras.models.caption_decoder import CaptionDecoder
from sensorlm_keras.models.sensorlm import SensorLM
from sensorlm_keras.models.sensorlm_coca_config import COCA_PRESETS, SensorLMCoCaConfig
from sensorlm_keras.utils import validation

PAD_ID, EOS_ID = 0, 1  # the caption tokenizer's ids (SensorLMTokenizer: <pad>=0, </s>=1)
STRATEGIES = ("greedy", "beam", "top_p")


@keras.saving.register_keras_serializable(package="sensorlm_keras")
class SensorLMCoCa(SensorLM):
    """SensorLM with a captioning decoder: contrastive loss + weighted captioning loss.

    The sensor and text towers and the contrastive loss (sigmoid SigLIP or softmax CLIP, from
    ``loss_type``) are `SensorLM`'s. A `CaptionDecoder` (causal unimodal text layers, then
    multimodal layers cross-attending to the sensor encoder's tokens, through an attentional
    pooler or directly) is trained with next-token cross-entropy on the same captions. The training loss is
    ``contrastive + captioning_loss_weight * captioning``, computed in `compute_loss` from the one
    forward pass, so the TensorFlow, JAX and PyTorch train steps of `SensorLM` are reused.
    With ``captioning_loss_weight=0`` the loss is exactly the two-tower loss of `SensorLM` with
    the same tower weights (the paper's CLIP/SigLIP special case).

    Difference from CoCa: CoCa computes the text embedding from its causal unimodal layers;
    here the contrastive text embedding comes from `SensorLM`'s text tower (bidirectional,
    masked-mean or last-token pooling) and the decoder has its own causal unimodal layers, so
    that weight 0 recovers the two-tower model exactly.

    Logged metrics: `SensorLM`'s plus ``contrastive_loss``, ``captioning_loss`` (mean token
    cross-entropy over real tokens, EOS included) and ``caption_token_accuracy``. Under
    `tf.distribute` the captioning loss is each replica's token mean divided by the number of
    replicas (exact when replicas hold equally many caption tokens).

    Generation (`generate`) is Python-driven with a compiled one-token step and a key/value
    cache (`sensorlm_keras.backend.compile_inference`: `tf.function` on TensorFlow, `jax.jit`
    on JAX, eager under `torch.no_grad` on PyTorch); it is not part of an exported SavedModel.

    Args:
        sensor_encoder: a `SensorEncoder`.
        text_encoder: a `TextEncoder` with the same output width.
        caption_decoder: a `CaptionDecoder` whose ``sensor_width`` is the sensor encoder's
            ``hidden_dim`` and whose vocabulary is the text encoder's.
        captioning_loss_weight: float >= 0 (default 2.0, CoCa's weight).
        label_smoothing: float in [0, 1), label smoothing of the captioning loss.
        **kwargs: `SensorLM` arguments (``loss_type``, ``loss_normalization``, ...).

    Call arguments:
        inputs: dict with ``"sensor"`` ``(B, T, C)``, ``"token_ids"`` ``(B, L)``, optional
            ``"padding_mask"`` ``(B, L)`` and ``"sensor_mask"`` (ignored).
        training: bool.

    Returns ``{"sensor_embeddings", "text_embeddings", "caption_logits" (B, L, vocab)}``.

    Example:

    ```python
    import numpy as np
    from sensorlm_keras import SensorLMCoCa

    model = SensorLMCoCa.from_preset("sensorlm_coca_tiny", sequence_length=120,
                                     num_channels=8, vocabulary_size=100, max_text_length=16)
    ids = np.random.randint(3, 100, size=(8, 16))
    ids[:, -1] = 1  # EOS
    batch = {"sensor": np.random.randn(8, 120, 8).astype("float32"), "token_ids": ids}
    model.compile(optimizer="adam")
    model.fit(batch, batch_size=8, epochs=1)
    ids = model.generate(batch["sensor"][:2], max_length=10, strategy="beam", num_beams=3)
    ```
    """

    PARTS = {**SensorLM.PARTS, "caption_decoder": CaptionDecoder}  # argument order
    NESTED_LAYERS = tuple(PARTS)
    CONFIG_CLASS = SensorLMCoCaConfig
    DEFAULT_NAME = "sensorlm_coca"
    presets = {name: spec["description"] for name, spec in COCA_PRESETS.items()}

    def __init__(
        self,
        sensor_encoder,
        text_encoder,
        caption_decoder,
        captioning_loss_weight=2.0,
        label_smoothing=0.0,
        **kwargs,
    ):
        super().__init__(sensor_encoder, text_encoder, **kwargs)
        if not isinstance(caption_decoder, CaptionDecoder):
            raise ConfigError(
                "SensorLMCoCa.caption_decoder: expected a CaptionDecoder, received "
                f"{type(caption_decoder).__name__}."
            )
        if caption_decoder.sensor_width != sensor_encoder.hidden_dim:
            raise ConfigError(
                f"SensorLMCoCa: caption_decoder.sensor_width ({caption_decoder.sensor_width}) "
                f"must equal the sensor encoder's hidden_dim ({sensor_encoder.hidden_dim})."
            )
        if caption_decoder.vocabulary_size != text_encoder.vocabulary_size:
            raise ConfigError(
                f"SensorLMCoCa: caption_decoder.vocabulary_size "
                f"({caption_decoder.vocabulary_size}) differs from the text encoder's "
                f"({text_encoder.vocabulary_size})."
            )
        self.caption_decoder = caption_decoder
        self.captioning_loss_weight = validation.check_float(
            captioning_loss_weight, "SensorLMCoCa.captioning_loss_weight", minimum=0.0
        )
        self.label_smoothing = validation.check_float(
            label_smoothing, "SensorLMCoCa.label_smoothing", 0.0, 1.0, exclusive_maximum=True
        )
        self._loss_replicas = 1
        self._generation_fns = {}
        self.contrastive_loss_tracker = keras.metrics.Mean(name="contrastive_loss")
        self.captioning_loss_tracker = keras.metrics.Mean(name="captioning_loss")
        self.caption_accuracy_tracker = keras.metrics.Mean(name="caption_token_accuracy")

    # ------------------------------------------------------------------ forward
    def call(self, inputs, training=None):
        sensor, token_ids, padding_mask = self._unpack_inputs(inputs)
        sensor_tokens = self.sensor_encoder.encode_tokens(sensor, training=training)
        return {
            "sensor_embeddings": self.sensor_encoder.pool_tokens(sensor_tokens, training=training),
            "text_embeddings": self.text_encoder(
                token_ids, padding_mask=padding_mask, training=training
            ),
            "caption_logits": self.caption_decoder(token_ids, sensor_tokens, training=training),
        }

    # ------------------------------------------------------------------ loss
    def _gather_for_loss(self, sensor_embeddings, text_embeddings):
        gathered = super()._gather_for_loss(sensor_embeddings, text_embeddings)
        self._loss_replicas = gathered["replicas"]  # a Python int, also while tracing
        return gathered

    def captioning_loss(self, token_ids, caption_logits, padding_mask=None):
        """Mean next-token cross-entropy over real tokens (float32), and the token accuracy."""
        logits = ops.cast(caption_logits, "float32")
        targets = ops.cast(token_ids, "int32")
        if padding_mask is None:
            weights = ops.ones(ops.shape(targets), "float32")
        else:
            weights = ops.cast(ops.cast(padding_mask, "bool"), "float32")
        logp = ops.log_softmax(logits, axis=-1)
        target_logp = ops.squeeze(
            ops.take_along_axis(logp, ops.expand_dims(targets, -1), axis=-1), -1
        )
        per_token = -target_logp
        if self.label_smoothing:
            eps = self.label_smoothing
            per_token = (1.0 - eps) * per_token - eps * ops.mean(logp, axis=-1)
        count = ops.maximum(ops.sum(weights), 1.0)
        loss = ops.sum(per_token * weights) / count
        correct = ops.cast(ops.equal(ops.cast(ops.argmax(logits, axis=-1), "int32"), targets),
                           "float32")
        accuracy = ops.sum(ops.stop_gradient(correct) * weights) / count
        return loss, accuracy

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """``SensorLM`` contrastive loss + ``captioning_loss_weight`` x captioning loss."""
        contrastive = super().compute_loss(
            x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=training
        )
        caption, accuracy = self.captioning_loss(
            x["token_ids"], y_pred["caption_logits"], x.get("padding_mask")
        )
        caption = caption / float(self._loss_replicas)
        self.contrastive_loss_tracker.update_state(ops.stop_gradient(contrastive))
        self.captioning_loss_tracker.update_state(ops.stop_gradient(caption))
        self.caption_accuracy_tracker.update_state(accuracy)
        return contrastive + self.captioning_loss_weight * caption

    # ------------------------------------------------------------------ generation
    def _check_generate_args(self, strategy, max_length, num_beams, top_p, temperature,
                             length_penalty, batch_size, tokenizer):
        """The checked ``max_length`` (default: the decoder's positions); raises
        `InputValidationError` naming the argument otherwise."""
        error = InputValidationError
        validation.check_choice(strategy, "generate(strategy)", STRATEGIES, error=error)
        limit = self.caption_decoder.max_text_length
        max_length = limit if max_length is None else max_length
        max_length = validation.check_int(max_length, "generate(max_length)", minimum=1,
                                          maximum=limit, error=error)
        validation.check_positive_int(batch_size, "generate(batch_size)", error=error)
        vocabulary = self.caption_decoder.vocabulary_size
        maximum = vocabulary // 2 if strategy == "beam" else None
        validation.check_positive_int(num_beams, "generate(num_beams)", maximum=maximum,
                                      error=error)
        validation.check_float(top_p, "generate(top_p)", 0.0, 1.0, exclusive_minimum=True,
                               error=error)
        validation.check_float(temperature, "generate(temperature)", 0.0,
                               exclusive_minimum=True, error=error)
        validation.check_float(length_penalty, "generate(length_penalty)", error=error)
        if tokenizer is not None:
            if not hasattr(tokenizer, "detokenize"):
                raise error(
                    "generate(tokenizer): expected a SensorLMTokenizer (with detokenize), "
                    f"received {type(tokenizer).__name__}."
                )
            size = getattr(tokenizer, "vocabulary_size", None)
            if size is not None and size != vocabulary:
                raise error(
                    f"generate(tokenizer): vocabulary size {size} does not match the model's "
                    f"{vocabulary}."
                )
        return max_length

    def _generation_functions(self):
        """``(prepare(sensor) -> cross_kvs, step(tokens, index, cross_kvs, caches))``, compiled
        for the backend (`sensorlm_keras.backend.compile_inference`) and cached on the model
        (variables are read at call time, so later training is seen)."""
        if not self._generation_fns:
            decoder = self.caption_decoder

            def prepare(sensor):
                tokens = self.sensor_encoder.encode_tokens(sensor, training=False)
                return decoder.cross_key_values(tokens)

            def step(tokens, index, cross_kvs, caches):
                logits, caches = decoder.decode_step(tokens, index, cross_kvs, caches)
                return logits[:, -1], caches

            self._generation_fns = {
                "prepare": backend.compile_inference(prepare, self),
                "step": backend.compile_inference(step, self),
            }
        return self._generation_fns["prepare"], self._generation_fns["step"]

    def generate(
        self,
        sensor,
        max_length=None,
        strategy="greedy",
        num_beams=4,
        top_p=0.9,
        temperature=1.0,
        length_penalty=1.0,
        seed=None,
        tokenizer=None,
        batch_size=32,
        return_scores=False,
    ):
        """Generate captions for sensor days with a key/value cache (cost linear in length).

        Args:
            sensor: ``(N, T, C)`` or one day ``(T, C)`` of z-scored values.
            max_length: generated tokens at most (EOS included); default max_text_length.
            strategy: ``"greedy"``, ``"beam"`` (length-normalised beam search) or ``"top_p"``
                (nucleus sampling).
            num_beams: beams for ``"beam"``; 1 gives greedy decoding.
            top_p: nucleus mass for ``"top_p"``.
            temperature: softmax temperature for ``"top_p"``.
            length_penalty: beam scores are ``log p / length ** length_penalty``.
            seed: int seed for ``"top_p"``; the same seed gives the same captions.
            tokenizer: optional `SensorLMTokenizer`; when given, strings are returned.
            batch_size: days decoded together.
            return_scores: also return the per-caption scores (sum of log-probabilities for
                greedy/top_p, length-normalised for beam).

        Returns:
            ``(N, max_length)`` int32 ids (EOS included, pad after it), or a list of ``N``
            strings when ``tokenizer`` is given (a single string/row for a single day); with
            ``return_scores`` a tuple ``(captions, scores)``.
        """
        max_length = self._check_generate_args(
            strategy, max_length, num_beams, top_p, temperature, length_penalty, batch_size,
            tokenizer,
        )
        array = validation.to_numpy(sensor)
        single = array is not None and array.ndim == 2
        if single:
            array = array[None]
        s = self.sensor_encoder
        array = validation.check_sensor(array, s.sequence_length, s.num_channels)
        if strategy == "top_p" and seed is None:
            seed = int(np.random.SeedSequence().entropy % (2**63))
        search = dict(strategy=strategy, num_beams=int(num_beams), top_p=float(top_p),
                      temperature=float(temperature), length_penalty=float(length_penalty),
                      seed=seed, max_length=max_length)
        results = [self._generate_batch(array[start:start + int(batch_size)], start, **search)
                   for start in range(0, array.shape[0], int(batch_size))]
        ids = np.concatenate([ids for ids, _ in results], axis=0)
        scores = np.concatenate([scores for _, scores in results], axis=0)
        out = tokenizer.detokenize(ids) if tokenizer is not None else ids
        if single:
            out, scores = out[0], scores[0]
        return (out, scores) if return_scores else out

    def _generate_batch(self, days, start, strategy, num_beams, top_p, temperature,
                        length_penalty, seed, max_length):
        """``(ids, scores)`` of one batch of days (``start``: its first row's index, which
        seeds top-p sampling per row)."""
        prepare, step_fn = self._generation_functions()
        decoder = self.caption_decoder
        n = days.shape[0]
        rows = n * num_beams if strategy == "beam" else n
        cross = prepare(ops.convert_to_tensor(days))
        if rows != n:
            cross = [ops.repeat(kv, num_beams, axis=0) for kv in cross]
        state = {"caches": decoder.init_cache(rows, max_length)}

        def step(tokens, index):
            logits, state["caches"] = step_fn(
                ops.convert_to_tensor(tokens, "int32"), ops.convert_to_tensor(index, "int32"),
                cross, state["caches"],
            )
            return ops.convert_to_numpy(logits)

        def reorder(indices):
            idx = ops.convert_to_tensor(np.asarray(indices, np.int32))
            state["caches"] = [ops.take(c, idx, axis=0) for c in state["caches"]]

        common = dict(max_length=max_length, start_id=decoder.start_token_id, eos_id=EOS_ID,
                      pad_id=PAD_ID)
        if strategy == "greedy":
            return caption_search.greedy(step, n, **common)
        if strategy == "top_p":
            return caption_search.top_p(step, n, p=top_p, temperature=temperature, seed=seed,
                                        row_offset=start, **common)
        return caption_search.beam(step, reorder, n, num_beams=num_beams,
                                   length_penalty=length_penalty, **common)

    # ------------------------------------------------------------------ serialisation
    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "caption_decoder": keras.layers.serialize(self.caption_decoder),
                "captioning_loss_weight": self.captioning_loss_weight,
                "label_smoothing": self.label_smoothing,
            }
        )
        return config
