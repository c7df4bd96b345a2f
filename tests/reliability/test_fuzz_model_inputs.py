"""Fuzz the model entry points (`encode_sensor`, `encode_text`, `predict`): random shapes,
dtypes, NaN/Inf, extreme values, out-of-range ids and masks. Every case gives finite, unit-norm
embeddings of shape (N, D) or raises `InputValidationError` naming the input."""

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from sensorlm_keras.errors import InputValidationError
from tests.core.helpers import C, L, T, V, tiny_model
from tests.reliability.fuzz_counts import run_case

SETTINGS = dict(deadline=None, derandomize=True, suppress_health_check=list(HealthCheck),
                phases=(Phase.explicit, Phase.generate))
SPECIALS = [np.nan, np.inf, -np.inf, 3.4e38, -3.4e38, 1e20, 1e-40, 0.0]
FIELDS = ("sensor", "token_ids", "padding_mask", "inputs", "batch_size")


@pytest.fixture(scope="module")
def model():
    return tiny_model()


def _unit_rows(out, n, dim):
    assert out.shape == (n, dim) and out.dtype == np.float32
    assert np.isfinite(out).all()
    if n:
        np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-3)


@st.composite
def sensors(draw):
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    shape = draw(st.sampled_from([(2, T, C)] * 4 + [(1, T, C), (0, T, C), (3, T, C),
                                  (T, C), (2, T, C, 1), (2, T - 1, C), (2, T, C + 1), (2, 0, C)]))
    values = rng.normal(0, 1, size=shape) * draw(st.sampled_from([1.0, 1.0, 5.0, 1e3, 1e15]))
    if values.size and draw(st.booleans()):
        values.flat[int(rng.integers(0, values.size))] = draw(st.sampled_from(SPECIALS))
    dtype = draw(st.sampled_from(["float32"] * 4 + ["float64", "float16", "int32", "bool",
                                                    "complex64", "object"]))
    with np.errstate(all="ignore"):
        array = values.astype(dtype)
    container = draw(st.sampled_from(["numpy"] * 4 + ["list", "tensor"]))
    if container == "list":
        return array.tolist()
    if container == "tensor" and dtype not in ("object", "complex64"):
        import keras

        return keras.ops.convert_to_tensor(array)
    return array


@settings(max_examples=150, **SETTINGS)
@given(sensors(), st.sampled_from([64, 64, 1, 0, -3]))
def test_fuzz_encode_sensor(model, sensor, batch_size):
    n = len(sensor) if isinstance(sensor, list) else (sensor.shape[0] if sensor.shape else 0)
    run_case("fuzz SensorLM.encode_sensor (sensor arrays)",
             lambda: model.encode_sensor(sensor, batch_size=batch_size),
             (InputValidationError,), lambda out: _unit_rows(out, n, 32), fields=FIELDS)


@st.composite
def token_batches(draw):
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n = draw(st.sampled_from([2, 2, 1, 0, 4]))
    length = draw(st.sampled_from([L, L, 1, L // 2, L + 1]))
    low, high = draw(st.sampled_from([(0, V), (0, V), (3, V), (-2, V), (0, V + 5), (0, 2**40)]))
    ids = rng.integers(low, high, size=(n, length))
    dtype = draw(st.sampled_from(["int32", "int32", "int64", "uint8", "float32", "bool"]))
    ids = ids.astype(dtype) if dtype != "uint8" else np.clip(ids, 0, 255).astype(dtype)
    if draw(st.booleans()):
        ids = ids[None]  # rank 3
    mask = draw(st.sampled_from(["none", "prefix", "prefix", "random", "int", "two", "wrong_shape",
                                 "all_false"]))
    shape = ids.shape
    if mask == "none":
        padding = None
    elif mask == "wrong_shape":
        padding = np.ones((n + 1, length), bool)
    else:
        lengths = rng.integers(1, length + 1, size=shape[:-1])
        padding = np.arange(length) < lengths[..., None]
        padding = {"prefix": padding, "random": rng.random(shape) < 0.5,
                   "int": padding.astype(np.int32), "two": padding.astype(np.int32) * 2,
                   "all_false": np.zeros(shape, bool)}[mask]
    return ids, padding


@settings(max_examples=150, **SETTINGS)
@given(token_batches())
def test_fuzz_encode_text(model, case):
    ids, padding = case
    run_case("fuzz SensorLM.encode_text (token ids, padding masks)",
             lambda: model.encode_text(ids, padding_mask=padding),
             (InputValidationError,), lambda out: _unit_rows(out, ids.shape[0], 32),
             fields=FIELDS)


@settings(max_examples=40, **SETTINGS)
@given(sensors(), token_batches(), st.sampled_from(["dict", "dict", "extra_key", "missing_key",
                                                    "not_a_dict"]))
def test_fuzz_predict(model, sensor, tokens, layout):
    ids, padding = tokens
    inputs = {"sensor": sensor, "token_ids": ids}
    if padding is not None:
        inputs["padding_mask"] = padding
    if layout == "extra_key":
        inputs["labels"] = ids
    elif layout == "missing_key":
        inputs.pop("token_ids")
    elif layout == "not_a_dict":
        inputs = [sensor, ids]

    def check(out):
        n = ids.shape[0]
        _unit_rows(np.asarray(out["sensor_embeddings"]), n, 32)
        _unit_rows(np.asarray(out["text_embeddings"]), n, 32)

    run_case("fuzz SensorLM.predict (input dicts)",
             lambda: model.predict(inputs, verbose=0, batch_size=4),
             (InputValidationError,), check, fields=FIELDS)


@settings(max_examples=20, **SETTINGS)
@given(st.integers(0, 2**32 - 1), st.sampled_from([1.0, 5.0, 1e3, 1e6]),
       st.sampled_from(["float32", "float64", "int32"]), st.sampled_from(["bool", "int32"]))
def test_fuzz_predict_on_well_formed_inputs(model, seed, scale, dtype, mask_dtype):
    rng = np.random.default_rng(seed)
    n = 4
    lengths = rng.integers(1, L + 1, size=n)
    inputs = {
        "sensor": (rng.normal(0, 1, size=(n, T, C)) * scale).astype(dtype),
        "token_ids": rng.integers(0, V, size=(n, L)).astype("int32"),
        "padding_mask": (np.arange(L) < lengths[:, None]).astype(mask_dtype),
        "sensor_mask": rng.random((n, T, C)) < 0.2,
    }

    def check(out):
        _unit_rows(np.asarray(out["sensor_embeddings"]), n, 32)
        _unit_rows(np.asarray(out["text_embeddings"]), n, 32)
        np.testing.assert_allclose(np.asarray(out["sensor_embeddings"]),
                                   model.encode_sensor(inputs["sensor"]), atol=1e-4)

    run_case("fuzz SensorLM.predict (well-formed inputs)",
             lambda: model.predict(inputs, verbose=0, batch_size=n),
             (InputValidationError,), check, fields=FIELDS)
