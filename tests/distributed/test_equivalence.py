"""Data parallelism gives the single-device result: same global batch, same initial weights.

TensorFlow: 1 vs 4 logical CPU devices under MirroredStrategy (replica all-gather of the text
embeddings, loss scaled per replica). JAX: 1 vs 4 forced host devices under
keras.distribution.DataParallel. Compared: the loss, every gradient of the first global batch
(directly, and as the first SGD update inside model.fit) and the weights after 3 steps.
"""

import pathlib

import numpy as np
import pytest

from tests.backend_harness import explain, run_python

SCRIPT = pathlib.Path(__file__).with_name("equivalence_script.py")
RTOL = 1e-4


def _run(backend, out, devices, init, *flags):
    code = (
        "import runpy, sys; sys.argv = " + repr([str(SCRIPT), str(out), "--devices", str(devices),
                                                  "--init", str(init), *flags])
        + "; runpy.run_path(sys.argv[0], run_name='__main__')"
    )
    result = run_python(backend, code, timeout=600)
    assert result.returncode == 0, explain(result)
    return dict(np.load(out, allow_pickle=True))


def _assert_close(single, multi, prefix):
    keys = [k for k in single if k.startswith(prefix)]
    assert keys, prefix
    for key in keys:
        a, b = single[key].astype(np.float64), multi[key].astype(np.float64)
        scale = np.abs(a).max()
        assert np.abs(a - b).max() <= RTOL * scale + 1e-7, (key, np.abs(a - b).max(), scale)


def _pair(tmp_path, backend, *flags):
    init = tmp_path / "init.npz"
    single = _run(backend, tmp_path / "one.npz", 1, init, *flags)
    multi = _run(backend, tmp_path / "four.npz", 4, init, *flags)
    assert int(multi["num_devices_seen"]) == 4 and int(multi["replicas"]) == 4
    return single, multi


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["tensorflow", "jax"])
@pytest.mark.parametrize("normalization", ["paper", "pairs"])
def test_four_devices_match_one_device(tmp_path, backend, normalization):
    single, multi = _pair(tmp_path, backend, "--normalization", normalization)
    np.testing.assert_allclose(multi["fit_loss"], single["fit_loss"], rtol=RTOL)
    if "loss" in single:
        np.testing.assert_allclose(multi["loss"], single["loss"], rtol=RTOL)
        _assert_close(single, multi, "grad")
    _assert_close(single, multi, "delta")
    _assert_close(single, multi, "weight")


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["tensorflow", "jax"])
def test_chunked_attention_four_devices_match_one_device(tmp_path, backend):
    """24 sensor tokens in blocks of 8 queries: on JAX the custom-gradient
    `blockwise_attention` (JAX) (its per-head loop over a batch-sharded array under DataParallel),
    on TensorFlow rematerialised blocks under MirroredStrategy."""
    single, multi = _pair(tmp_path, backend, "--attention-chunk", "8")
    np.testing.assert_allclose(multi["fit_loss"], single["fit_loss"], rtol=RTOL)
    if "loss" in single:
        np.testing.assert_allclose(multi["loss"], single["loss"], rtol=RTOL)
        _assert_close(single, multi, "grad")
    _assert_close(single, multi, "weight")


@pytest.mark.slow
def test_softmax_loss_with_gathered_negatives_matches(tmp_path):
    single, multi = _pair(tmp_path, "tensorflow", "--loss", "softmax")
    np.testing.assert_allclose(multi["loss"], single["loss"], rtol=RTOL)
    _assert_close(single, multi, "grad")


@pytest.mark.slow
def test_negative_control_local_negatives_differ(tmp_path):
    """Without the all-gather each replica sees 2 texts instead of 8: the loss changes, so
    the equivalence test above can fail. (With b = 0 the negatives weigh as much as the
    positives; at b = -10 they barely count at initialisation.)"""
    init = tmp_path / "init.npz"
    single = _run("tensorflow", tmp_path / "one.npz", 1, init, "--bias-init", "0")
    local = _run("tensorflow", tmp_path / "local.npz", 4, init, "--local-negatives",
                 "--bias-init", "0")
    gathered = _run("tensorflow", tmp_path / "four.npz", 4, init, "--bias-init", "0")
    np.testing.assert_allclose(gathered["loss"], single["loss"], rtol=RTOL)
    assert abs(float(local["loss"]) - float(single["loss"])) > 1e-2 * abs(float(single["loss"]))
    worst = max(
        np.abs(single[k] - local[k]).max() / np.abs(single[k]).max()
        for k in single if k.startswith("grad") and np.abs(single[k]).max() > 0
    )
    assert worst > 1e-2
