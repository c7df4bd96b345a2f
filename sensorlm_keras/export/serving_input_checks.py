"""In-graph checks of the serving inputs (TensorFlow only).

TensorFlow Serving feeds whatever a request carries, so each signature validates its inputs
inside the graph with ``tf.debugging`` assertions. A failed check answers the request with an
``INVALID_ARGUMENT`` error whose message names the input and the limit it broke (batch size,
text length, sensor shape, finite values, ...). Each check returns its inputs behind the
assertions (`_after`), so nothing downstream runs on an input that failed.
"""

import dataclasses

import tensorflow as tf

from sensorlm_keras.export.signatures import MAX_PROMPT_TEMPLATES, PLACEHOLDER


def _after(checks, *tensors):
    """``tensors`` (one tensor or a tuple) that can only be computed once ``checks`` passed."""
    with tf.control_dependencies(checks):
        out = tuple(tf.identity(t) for t in tensors)
    return out if len(out) > 1 else out[0]


@dataclasses.dataclass(frozen=True)
class ServingInputChecks:
    """The serving limits of one export and the assertions that enforce them.

    Attributes:
        sequence_length: minutes per sensor day (``T``).
        num_channels: sensor channels (``C``).
        vocabulary_size: token ids must lie in ``[0, vocabulary_size)``.
        max_text_length: the longest token sequence the text encoder takes.
        max_batch_size: the largest batch (sensor rows, texts, class names) a call may carry.
        max_text_length_chars: the longest text (Unicode characters) a call may carry.

    Example:

    ```python
    checks = ServingInputChecks(1440, 34, 1024, 64, max_batch_size=256,
                                max_text_length_chars=20000)
    sensor = checks.sensor(sensor)  # inside a tf.function
    ```
    """

    sequence_length: int
    num_channels: int
    vocabulary_size: int
    max_text_length: int
    max_batch_size: int
    max_text_length_chars: int

    def batch(self, size, field):
        """Assertions that a batch of ``size`` items is in ``[1, max_batch_size]``."""
        limit = self.max_batch_size
        return [
            tf.debugging.assert_greater_equal(
                size, 1, message=f"{field}: the batch is empty; send at least 1 item"
            ),
            tf.debugging.assert_less_equal(
                size, limit,
                message=f"{field}: batch size exceeds the serving limit max_batch_size={limit}",
            ),
        ]

    def _sensor_shape(self, sensor, field):
        expected = f"(batch, {self.sequence_length}, {self.num_channels})"
        rank_ok = tf.debugging.assert_equal(
            tf.rank(sensor), 3, message=f"{field}: expected rank 3 {expected}"
        )
        shape = tf.shape(sensor)
        with tf.control_dependencies([rank_ok]):  # shape[1:] of a wrong rank is meaningless
            shape_ok = tf.debugging.assert_equal(
                shape[1:], tf.constant([self.sequence_length, self.num_channels], tf.int32),
                message=f"{field}: the model expects shape {expected} (minutes, channels)",
            )
        return [rank_ok, shape_ok] + self.batch(shape[0], field)

    def sensor(self, sensor, field="sensor"):
        """A finite ``(B, T, C)`` float32 batch, ``B`` within the limit."""
        sensor = _after(self._sensor_shape(sensor, field), sensor)
        sensor = tf.debugging.assert_all_finite(
            sensor, f"{field}: values must be finite (no NaN/Inf); mark missing cells with "
            "embed_sensor_masked's sensor_mask",
        )
        return tf.ensure_shape(sensor, [None, self.sequence_length, self.num_channels])

    def masked_sensor(self, sensor, sensor_mask, field="sensor"):
        """``(sensor, sensor_mask)`` of one ``(B, T, C)`` shape; observed cells finite.

        Missing cells (``sensor_mask`` True) may hold anything; they come back as 0.
        """
        checks = self._sensor_shape(sensor, field)
        with tf.control_dependencies(checks):
            checks.append(tf.debugging.assert_equal(
                tf.shape(sensor_mask), tf.shape(sensor),
                message=f"sensor_mask: must have the same shape as {field} (batch, "
                f"{self.sequence_length}, {self.num_channels})",
            ))
        sensor, sensor_mask = _after(checks, sensor, sensor_mask)
        observed = tf.where(sensor_mask, tf.zeros_like(sensor), sensor)
        observed = tf.debugging.assert_all_finite(
            observed, f"{field}: values must be finite (no NaN/Inf)"
        )
        shape = [None, self.sequence_length, self.num_channels]
        return tf.ensure_shape(observed, shape), tf.ensure_shape(sensor_mask, shape)

    def texts(self, texts, field="texts", check_batch=True):
        """Strings of at most ``max_text_length_chars`` characters (and a batch in the limit)."""
        limit = self.max_text_length_chars
        checks = self.batch(tf.size(texts), field) if check_batch else []
        checks.append(tf.debugging.assert_less_equal(
            tf.strings.length(texts, unit="UTF8_CHAR"), limit,
            message=f"{field}: a text exceeds the serving limit max_text_length_chars={limit}",
        ))
        return _after(checks, texts)

    def templates(self, templates):
        """1 to `MAX_PROMPT_TEMPLATES` prompt templates, each with exactly one ``{}``."""
        count = tf.size(templates)
        slots = tf.strings.split(templates, PLACEHOLDER).row_lengths() - 1
        checks = [
            tf.debugging.assert_greater_equal(
                count, 1, message="prompt_templates: send at least 1 template"
            ),
            tf.debugging.assert_less_equal(
                count, MAX_PROMPT_TEMPLATES, message="prompt_templates: more than the serving "
                f"limit max_prompt_templates={MAX_PROMPT_TEMPLATES}",
            ),
            tf.debugging.assert_equal(
                slots, tf.constant(1, slots.dtype), message="prompt_templates: every template "
                f"must contain the placeholder {PLACEHOLDER} exactly once",
            ),
        ]
        return _after(checks, templates)

    def token_ids(self, token_ids, padding_mask):
        """``(N, L)`` ids in the vocabulary with ``1 <= L <= max_text_length`` and a mask alike."""
        shape = tf.shape(token_ids)
        longest, vocab = self.max_text_length, self.vocabulary_size
        in_vocab = f"token_ids: ids must lie in [0, {vocab - 1}] (vocabulary_size={vocab})"
        checks = self.batch(shape[0], "token_ids") + [
            tf.debugging.assert_less_equal(
                shape[1], longest,
                message=f"token_ids: length exceeds the model's max_text_length={longest}",
            ),
            tf.debugging.assert_greater_equal(
                shape[1], 1, message="token_ids: expected at least 1 token per row"
            ),
            tf.debugging.assert_equal(
                tf.shape(padding_mask), shape,
                message="padding_mask: must have the same shape as token_ids",
            ),
            tf.debugging.assert_greater_equal(token_ids, 0, message=in_vocab),
            tf.debugging.assert_less(token_ids, vocab, message=in_vocab),
        ]
        return _after(checks, token_ids, padding_mask)
