"""Where a PyTorch training step spends its time: SensorLM against the fair keras-hub peer.

    python benchmarks/torch_step_parts.py --layers 2 --reps 5

Builds `SensorLM` and keras-hub's `SigLIPBackbone` with a one-forward ``compute_loss`` (see
`vs_keras_hub.py`) at the same size in one process, and times forward + backward of each part
at the real shapes, interleaved (SensorLM part, keras-hub part, next part, ...; ``--reps``
rounds, medians), so both models see the same machine load:

- ``patch_embedding``: patches + position embedding (keras-hub: its Conv2D embedding);
- ``attention``: LayerNorm + self-attention + residual of one encoder block (times layers);
- ``mlp``: LayerNorm + MLP + residual of one encoder block (times layers);
- ``pool_head``: final LayerNorm + MAP head (+ SensorLM's L2 normalisation);
- ``text_tower``: the whole text encoder;
- ``loss``: the sigmoid loss from the two towers' outputs (keras-hub: its logit head + loss);
- ``grad_norm_keras_ops`` / ``grad_norm_torch``: SensorLM's global gradient norm written with
  `keras.ops` (one square, sum per gradient) and with ``torch.nn.utils.get_total_norm``;
- ``optimizer``: ``optimizer.apply`` (AdamW);
- ``train_step``: one whole ``train_on_batch``; ``unaccounted`` is what the parts above do
  not cover (Keras' step and metric overhead, autograd bookkeeping);
- ``train_step_keras_ops_norm`` (SensorLM only): the same step with the gradient norm of the
  `keras.ops` version, as before the PyTorch step used ``get_total_norm`` (A/B in one run).

``--steps-only`` times just the whole steps (the A/B and the peer), interleaved.

Prints one JSON line per part (wall and CPU seconds, medians) and a summary line. Wall time on
a shared machine is noisy; CPU time (``time.process_time``) is steadier under contention.
PyTorch backend only.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ["KERAS_BACKEND"] = "torch"
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import common  # noqa: E402
import vs_keras_hub  # noqa: E402

STEPS = ("train_step", "train_step_keras_ops_norm")


def _fwd_bwd(model, fn, *inputs):
    """A closure: zero the grads, run ``fn(*leaf inputs)``, backward of the sum."""
    import torch

    leaves = [torch.as_tensor(x).detach() for x in inputs]
    leaves = [x.requires_grad_(x.is_floating_point()) for x in leaves]

    def run():
        model.zero_grad()
        out = fn(*leaves)
        out = out if isinstance(out, torch.Tensor) else sum(o.sum() for o in out)
        out.sum().backward()

    return run


def _sensorlm_parts(model, batch):
    import torch

    from sensorlm_keras.backend.common.base_train_step import global_norm

    enc, text = model.sensor_encoder, model.text_encoder
    block = enc.blocks[0]
    with torch.no_grad():
        tokens = enc.position_embedding(enc.patch_embedding(torch.as_tensor(batch["sensor"])))
        s = enc(torch.as_tensor(batch["sensor"]))
        t = text(torch.as_tensor(batch["token_ids"]),
                 padding_mask=torch.as_tensor(batch["padding_mask"]))
    weights = model.trainable_weights
    model.train_on_batch(batch)  # leaves gradients for the norm and optimizer parts
    grads = [v.value.grad for v in weights]
    return {
        "patch_embedding": _fwd_bwd(
            model, lambda x: enc.position_embedding(enc.patch_embedding(x)), batch["sensor"]),
        "attention": _fwd_bwd(model, lambda x: x + block.attention(block.norm1(x)), tokens),
        "mlp": _fwd_bwd(model, lambda x: x + block.mlp(block.norm2(x)), tokens),
        "pool_head": _fwd_bwd(
            model, lambda x: enc.l2_normalization(enc.map_head(enc.final_norm(x))), tokens),
        "text_tower": _fwd_bwd(model, lambda i, m: text(i, padding_mask=m),
                               batch["token_ids"], batch["padding_mask"]),
        "loss": _fwd_bwd(model, lambda a, b: model.compute_loss(
            y_pred={"sensor_embeddings": a, "text_embeddings": b}), s, t),
        "grad_norm_keras_ops": lambda: global_norm(grads),
        "grad_norm_torch": lambda: torch.nn.utils.get_total_norm(
            [g for g in grads if g is not None]),
        "optimizer": _optimizer_step(model, grads, weights),
        "train_step": lambda: model.train_on_batch(batch),
        "train_step_keras_ops_norm": _with_keras_ops_norm(lambda: model.train_on_batch(batch)),
    }


def _with_keras_ops_norm(fn):
    """``fn`` run with the PyTorch step's gradient norm computed by the `keras.ops` version
    (`sensorlm_keras.backend.common.base_train_step.global_norm`) instead of ``torch.nn.utils.get_total_norm``: the step
    before that change, for an A/B in one process."""
    from unittest import mock

    import torch

    from sensorlm_keras.backend.common.base_train_step import global_norm

    def run():
        with mock.patch.object(torch.nn.utils, "get_total_norm", global_norm):
            return fn()

    return run


def _hub_parts(model, batch):
    import torch

    enc, text = model.vision_encoder, model.text_encoder
    block = enc.encoder_layers[0]
    images = torch.as_tensor(batch["images"])
    with torch.no_grad():
        tokens = enc.embedding(images)
        v = enc({"images": images})
        t = text({"token_ids": torch.as_tensor(batch["token_ids"])})
    weights = model.trainable_weights
    model.train_on_batch(batch)
    grads = [v.value.grad for v in weights]

    def loss(a, b):
        return model.compute_loss(y_pred={"text_logits": model.siglip_head(a, b)[1]})

    def attention(x):
        y = block.layer_norm1(x)
        return x + block.self_attn(y, y, y)

    return {
        "patch_embedding": _fwd_bwd(model, enc.embedding, batch["images"]),
        "attention": _fwd_bwd(model, attention, tokens),
        "mlp": _fwd_bwd(model, lambda x: x + block.mlp(block.layer_norm2(x)), tokens),
        "pool_head": _fwd_bwd(model, lambda x: enc.head(enc.post_layer_norm(x)), tokens),
        "text_tower": _fwd_bwd(model, lambda i: text({"token_ids": i}), batch["token_ids"]),
        "loss": _fwd_bwd(model, loss, v, t),
        "optimizer": _optimizer_step(model, grads, weights),
        "train_step": lambda: model.train_on_batch(batch),
    }


def _optimizer_step(model, grads, weights):
    import torch

    def run():
        with torch.no_grad():
            model.optimizer.apply(grads, weights)

    return run


def _time(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def _models(args):
    import keras
    import numpy as np

    config = vs_keras_hub._size(args)
    rng = np.random.default_rng(0)
    ids = rng.integers(3, config.vocabulary_size, (args.batch_size, args.text_length))
    ids = ids.astype("int32")
    built = {
        "sensorlm": vs_keras_hub._sensorlm(config, rng, ids),
        "keras_hub_one_forward": vs_keras_hub._keras_hub(config, rng, ids, one_forward=True),
    }
    for model, batch, _ in built.values():
        model.compile(optimizer=keras.optimizers.AdamW(1e-4))
        model.train_on_batch(batch)  # builds the optimizer, warms up
    return config, built


def _emit_summary(args, config, built, medians):
    """Per-step seconds of every part (per-layer parts times the depth) and the ratio."""
    layers = config.sensor_num_layers
    record = {"benchmark": "torch_step_parts_summary", "layers": layers,
              "hidden_dim": config.sensor_hidden_dim, "batch_size": args.batch_size,
              "reps": args.reps}
    for clock in ("wall", "cpu"):
        for name, (_, _, tokens) in built.items():
            parts = {p: v[clock] * (layers if p in ("attention", "mlp") else 1)
                     for p, v in medians[name].items()}
            steps = {p: parts.pop(p) for p in STEPS if p in parts}
            norm = parts.pop("grad_norm_torch", None)
            if parts:
                parts["unaccounted"] = steps["train_step"] - sum(parts.values())
            if norm is not None:
                parts["grad_norm_torch"] = norm
            if parts:
                record[f"{name}_{clock}"] = {p: round(v, 4) for p, v in parts.items()}
            for step_name, step in steps.items():
                record[f"{name}_{clock}_{step_name}"] = round(step, 4)
                record[f"{name}_{clock}_{step_name}_per_token"] = round(step / tokens, 8)
        peer = record[f"keras_hub_one_forward_{clock}_train_step_per_token"]
        for step_name in STEPS:
            ours = record.get(f"sensorlm_{clock}_{step_name}_per_token")
            if ours:
                record[f"speedup_vs_one_forward_per_token_{clock}_{step_name}"] = round(
                    peer / ours, 3)
    common.emit({**record, **common.machine()})


def _collect(parts, reps):
    """Interleaved timings: each rep runs every part of every model once, part by part."""
    samples = {m: {p: [] for p in ps} for m, ps in parts.items()}
    names = list(parts["sensorlm"])
    for _ in range(reps):
        for part in names:
            for model, fns in parts.items():
                if part in fns:
                    samples[model][part].append(_time(fns[part]))
    return samples


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="sensorlm_base")
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=2)
    parser.add_argument("--text-length", type=int, default=64)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--steps-only", action="store_true",
                        help="time only the whole steps (SensorLM with both gradient norms, "
                        "keras-hub), interleaved")
    args = parser.parse_args(argv)
    config, built = _models(args)
    parts = {
        "sensorlm": _sensorlm_parts(*built["sensorlm"][:2]),
        "keras_hub_one_forward": _hub_parts(*built["keras_hub_one_forward"][:2]),
    }
    if args.steps_only:
        parts = {m: {p: f for p, f in ps.items() if p in STEPS} for m, ps in parts.items()}
    samples = _collect(parts, args.reps)
    medians = {m: {p: {"wall": statistics.median(w for w, _ in s),
                       "cpu": statistics.median(c for _, c in s)} for p, s in ps.items()}
               for m, ps in samples.items()}
    for model, ps in samples.items():
        for part, runs in ps.items():
            common.emit({"benchmark": "torch_step_parts", "model": model, "part": part,
                         "wall_seconds": round(medians[model][part]["wall"], 4),
                         "cpu_seconds": round(medians[model][part]["cpu"], 4),
                         "wall_all": [round(w, 3) for w, _ in runs],
                         "cpu_all": [round(c, 3) for _, c in runs]})
    _emit_summary(args, config, built, medians)


if __name__ == "__main__":
    main()
