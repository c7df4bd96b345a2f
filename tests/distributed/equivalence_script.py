"""Run by tests/distributed/test_equivalence.py in a subprocess.

    python equivalence_script.py OUT.npz --devices N [--normalization paper] [--loss sigmoid]
        [--local-negatives] [--init INIT.npz] [--chunk K] [--attention-chunk Q]
        [--multi-process]

Builds the tiny test model (initial weights from INIT.npz when given, else written there),
then on ONE global batch sequence of 3 x 8 examples records the loss and every gradient of the
first batch and the weights after 3 SGD steps, on N CPU devices: TensorFlow splits the CPU
into N logical devices under MirroredStrategy, JAX forces N host devices under
keras.distribution.DataParallel. N = 1 runs without any strategy.

With --multi-process the script is one of several processes (started by
tests/distributed/test_multi_process.py): the cluster comes from the environment through
`DistributionPlan` (TF_CONFIG with "multi_worker" on TensorFlow; JAX_COORDINATOR_ADDRESS,
JAX_NUM_PROCESSES, JAX_PROCESS_ID with "data_parallel" on JAX), N is the devices of each
process, the data is a tf.data dataset of global batches (each process keeps its part), and
each process writes OUT.<process index>.npz.
"""

import argparse
import os
import sys

parser = argparse.ArgumentParser()
parser.add_argument("out")
parser.add_argument("--devices", type=int, default=1)
parser.add_argument("--normalization", default="paper")
parser.add_argument("--loss", default="sigmoid")
parser.add_argument("--local-negatives", action="store_true")
parser.add_argument("--init", required=True)
parser.add_argument("--chunk", type=int, default=None)
parser.add_argument("--attention-chunk", type=int, default=None)
parser.add_argument("--bias-init", type=float, default=-10.0)
parser.add_argument("--multi-process", action="store_true")
args = parser.parse_args()

backend = os.environ["KERAS_BACKEND"]
if backend == "jax":
    os.environ["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={args.devices}"
sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))

import numpy as np  # noqa: E402

if backend == "jax":
    import jax
if backend == "tensorflow":
    import tensorflow as tf

    if args.devices > 1:
        cpus = tf.config.list_physical_devices("CPU")
        tf.config.set_logical_device_configuration(
            cpus[0], [tf.config.LogicalDeviceConfiguration()] * args.devices
        )

import keras  # noqa: E402
keras.config.disable_traceback_filtering()

from sensorlm_keras import SensorLM  # noqa: E402
from sensorlm_keras.distribute import DistributionPlan  # noqa: E402
from tests.core.helpers import random_batch  # noqa: E402

plan = None
if args.multi_process:  # before any other TF op: MultiWorkerMirroredStrategy starts here
    plan = DistributionPlan("multi_worker" if backend == "tensorflow" else "data_parallel")

GLOBAL_BATCH, STEPS, LR = 8, 3, 0.1


def build():
    keras.utils.set_random_seed(0)
    model = SensorLM.from_preset(
        "sensorlm_tiny", sequence_length=60, num_channels=8, vocabulary_size=64,
        max_text_length=12, sensor_hidden_dim=32, sensor_num_heads=2, sensor_mlp_dim=64,
        sensor_num_layers=1, text_hidden_dim=32, text_num_heads=2, text_mlp_dim=64,
        text_num_layers=1, embed_dim=32, loss_normalization=args.normalization,
        loss=args.loss, loss_chunk_size=args.chunk, logit_bias_init=args.bias_init,
        **({} if args.attention_chunk is None else {"attention_chunk_size": args.attention_chunk}),
    )
    model.global_negatives = not args.local_negatives
    if os.path.exists(args.init):
        init = np.load(args.init)
        model.set_weights([init[f"w{i}"] for i in range(len(init.files))])
        model.logit_bias.assign(args.bias_init)
    else:
        np.savez(args.init, **{f"w{i}": w for i, w in enumerate(model.get_weights())})
    model.compile(optimizer=keras.optimizers.SGD(LR))
    return model


data = random_batch(GLOBAL_BATCH * STEPS, seed=7)
data["padding_mask"] = data["padding_mask"].astype("int32")
batches = [{k: v[i * GLOBAL_BATCH:(i + 1) * GLOBAL_BATCH] for k, v in data.items()}
           for i in range(STEPS)]
record = {}

if backend == "tensorflow" and (args.devices > 1 or plan is not None):
    strategy = (plan.tf_strategy if plan is not None else
                tf.distribute.MirroredStrategy([f"/cpu:{i}" for i in range(args.devices)]))
    with strategy.scope():
        model = build()

    dataset = tf.data.Dataset.from_tensor_slices(batches[0]).batch(GLOBAL_BATCH)
    dist = strategy.experimental_distribute_dataset(dataset)

    @tf.function
    def loss_and_grads(batch):
        def replica_fn(b):
            with tf.GradientTape() as tape:
                y = model(b, training=True)
                loss = model.compute_loss(x=b, y_pred=y)
            return loss, tape.gradient(loss, model.trainable_variables)

        loss, grads = strategy.run(replica_fn, args=(batch,))
        sum_ = tf.distribute.ReduceOp.SUM
        return strategy.reduce(sum_, loss, axis=None), [
            strategy.reduce(sum_, g, axis=None) for g in grads
        ]

    loss, grads = loss_and_grads(next(iter(dist)))
    record["replicas"] = strategy.num_replicas_in_sync
else:
    if plan is not None:
        keras.distribution.set_distribution(plan.distribution)
    elif backend == "jax" and args.devices > 1:
        keras.distribution.set_distribution(keras.distribution.DataParallel(devices=jax.devices()))
    model = build()  # under a JAX distribution, variables are created distributed
    if backend == "tensorflow":
        with tf.GradientTape() as tape:
            y = model(batches[0], training=True)
            loss = model.compute_loss(x=batches[0], y_pred=y)
        grads = tape.gradient(loss, model.trainable_variables)
    else:
        loss, grads = None, None
    record["replicas"] = args.devices if plan is None else plan.num_replicas

if grads is not None:
    record["loss"] = float(np.asarray(loss))
    for i, g in enumerate(grads):
        record[f"grad{i}"] = (np.zeros(model.trainable_variables[i].shape) if g is None
                              else np.asarray(tf.convert_to_tensor(g)))

before = [np.array(w) for w in model.get_weights()]


class Capture(keras.callbacks.Callback):
    """After the first global batch: its loss and the SGD update (= -lr * gradient)."""

    def on_train_batch_end(self, batch, logs=None):
        if batch == 0:
            record["fit_loss"] = float(logs["loss"])
            for i, (b, a) in enumerate(zip(before, self.model.get_weights())):
                record[f"delta{i}"] = (np.asarray(a) - b) / -LR


# model.fit splits each global batch over the replicas (train_on_batch would not: under
# MirroredStrategy it runs the whole batch on every replica).
if plan is None:
    model.fit(data, batch_size=GLOBAL_BATCH, epochs=1, shuffle=False, verbose=0,
              callbacks=[Capture()])
else:  # global batches; each process keeps its part (tf.distribute / Keras auto-sharding)
    import tensorflow as tf_data

    model.fit(tf_data.data.Dataset.from_tensor_slices(data).batch(GLOBAL_BATCH), epochs=1,
              verbose=0, callbacks=[Capture()])
for i, w in enumerate(model.get_weights()):
    record[f"weight{i}"] = np.asarray(w)
record["trainable_names"] = np.array([v.path for v in model.trainable_variables])
record["num_devices_seen"] = (
    len(jax.devices()) if backend == "jax" else len(tf.config.list_logical_devices("CPU"))
    if backend == "tensorflow" else 1
)
if plan is not None:
    record["num_workers"] = plan.num_workers
    record["worker_index"] = plan.worker_index
    args.out = f"{args.out}.{plan.worker_index}.npz"
np.savez(args.out, **record)
print("ok", record["fit_loss"], record["num_devices_seen"])
