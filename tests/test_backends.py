"""The core suite on every backend, and models moving between backends.

`tests/core` runs in this process under the current backend (TensorFlow by default); here it
runs again under each other backend in a subprocess, so one `pytest` command covers all three.
"""

import json
import os

import numpy as np
import pytest

from tests.backend_harness import BACKENDS, explain, run_pytest, run_python

CURRENT = os.environ.get("KERAS_BACKEND", "tensorflow")


@pytest.mark.backend
@pytest.mark.slow
@pytest.mark.parametrize("backend", [b for b in BACKENDS if b != CURRENT])
def test_core_suite_on_other_backend(backend):
    result = run_pytest(backend, "tests/core")
    print(result.stdout[-800:])
    assert result.returncode == 0, explain(result)
    assert " passed" in result.stdout and "skipped" not in result.stdout.splitlines()[-1]


SAVE = """
import json, numpy as np, keras
from tests.core.helpers import tiny_model, random_batch
model = tiny_model()
model.compile(optimizer="adam")
model.train_on_batch(random_batch(4, seed=3))
batch = random_batch(3, seed=11)
out = model.predict(batch, verbose=0)
model.save({path!r})
np.savez({ref!r}, **out)
print(json.dumps({{"backend": keras.backend.backend()}}))
"""

LOAD = """
import json, numpy as np, keras
from tests.core.helpers import random_batch
model = keras.saving.load_model({path!r}, safe_mode=True)
out = model.predict(random_batch(3, seed=11), verbose=0)
ref = np.load({ref!r})
diff = max(float(np.abs(out[k] - ref[k]).max()) for k in ref.files)
print(json.dumps({{"backend": keras.backend.backend(), "max_abs_diff": diff}}))
"""


@pytest.mark.backend
@pytest.mark.slow
@pytest.mark.parametrize("source, target", [("jax", "tensorflow"), ("tensorflow", "torch"),
                                            ("torch", "jax")])
def test_keras_file_moves_between_backends(tmp_path, source, target):
    path, ref = str(tmp_path / "m.keras"), str(tmp_path / "ref.npz")
    saved = run_python(source, SAVE.format(path=path, ref=ref))
    assert saved.returncode == 0, explain(saved)
    loaded = run_python(target, LOAD.format(path=path, ref=ref))
    assert loaded.returncode == 0, explain(loaded)
    report = json.loads(loaded.stdout.strip().splitlines()[-1])
    assert report["backend"] == target
    assert report["max_abs_diff"] < 1e-5, report


LOSS = """
import json, numpy as np
from keras import ops
from sensorlm_keras.losses import SigLIPLoss
rng = np.random.default_rng(0)
s = rng.standard_normal((8, 16)); s /= np.linalg.norm(s, axis=1, keepdims=True)
t = rng.standard_normal((8, 16)); t /= np.linalg.norm(t, axis=1, keepdims=True)
print(json.dumps({"loss": float(ops.convert_to_numpy(SigLIPLoss().embedding_loss(s.astype("float32"), t.astype("float32"), 1.1, -3.0)))}))
"""


@pytest.mark.backend
def test_loss_agrees_across_backends():
    values = {}
    for backend in BACKENDS:
        result = run_python(backend, LOSS)
        assert result.returncode == 0, explain(result)
        values[backend] = json.loads(result.stdout.strip().splitlines()[-1])["loss"]
    assert np.ptp(list(values.values())) < 1e-5, values


NUMPY_INFERENCE = """
import json, numpy as np
from sensorlm_keras import SensorLM
from sensorlm_keras.backend.numpy import TrainStep as DefaultTrainStep
model = SensorLM.from_preset("sensorlm_tiny", sequence_length=120, num_channels=8,
                             patch_size=(10, 2))
z = np.asarray(model.encode_sensor(np.zeros((2, 120, 8), "float32")))
print(json.dumps({"default_step": isinstance(model, DefaultTrainStep), "shape": list(z.shape),
                  "norms": np.linalg.norm(z, axis=-1).tolist()}))
"""


@pytest.mark.backend
def test_model_imports_and_embeds_on_a_backend_without_its_own_train_step():
    # Keras' numpy backend (inference only) gets the fallback step; importing SensorLM once
    # raised NameError there (BaseTrainStep was not imported).
    result = run_python("numpy", NUMPY_INFERENCE, timeout=300)
    assert result.returncode == 0, explain(result)
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["default_step"] and out["shape"] == [2, 64]
    np.testing.assert_allclose(out["norms"], 1.0, atol=1e-5)


TRAIN_FROM_FILE = """
import json, numpy as np, keras
from tests.core.helpers import random_batch
from sensorlm_keras.training.optimizer import build_optimizer
model = keras.saving.load_model({path!r})
model.compile(optimizer=build_optimizer(model, 20, peak_learning_rate=2e-3, warmup_fraction=0.1,
                                        timescale=1000.0))
batches = [random_batch(8, seed=100 + i) for i in range(6)]
for batch in batches[:3]:  # captions repeat words: a token many times in one batch
    batch["token_ids"] = np.where(batch["padding_mask"], batch["token_ids"] % 4 + 3, 0)
losses = [float(model.train_on_batch(batch, return_dict=True)["loss"]) for batch in batches]
np.savez({out!r}, **{{v.path: np.asarray(v) for v in model.trainable_variables}})
print(json.dumps({{"losses": losses}}))
"""


@pytest.mark.backend
@pytest.mark.slow
def test_training_from_the_same_weights_agrees_across_backends(tmp_path):
    # The recipe's optimizer (AdamW, kernel-only decay, clipping, schedule) and each
    # backend's train step give the same losses and weights from the same start: differences
    # between backends' main-job results come from their initial random weights, not from
    # how they train. Half the batches repeat a few tokens many times: TensorFlow's sparse
    # embedding gradient then has repeated rows, which Keras' optimizer squares before summing
    # unless the step makes it dense (found by notebook 06).
    path = str(tmp_path / "init.keras")
    saved = run_python("tensorflow", SAVE.format(path=path, ref=str(tmp_path / "ref.npz")))
    assert saved.returncode == 0, explain(saved)
    losses, weights = {}, {}
    for backend in BACKENDS:
        out = str(tmp_path / f"w_{backend}.npz")
        result = run_python(backend, TRAIN_FROM_FILE.format(path=path, out=out))
        assert result.returncode == 0, explain(result)
        losses[backend] = json.loads(result.stdout.strip().splitlines()[-1])["losses"]
        weights[backend] = dict(np.load(out))
    for backend in BACKENDS[1:]:
        np.testing.assert_allclose(losses[backend], losses["tensorflow"], rtol=1e-4)
        assert weights[backend].keys() == weights["tensorflow"].keys()
        for name, value in weights["tensorflow"].items():
            np.testing.assert_allclose(weights[backend][name], value, atol=1e-4, err_msg=name)
    assert losses["tensorflow"][-1] != losses["tensorflow"][0]  # it did train
