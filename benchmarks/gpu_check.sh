#!/usr/bin/env bash
# The issue-6 GPU check: sensorlm_base training on JAX with bfloat16 and flash attention.
#
# Prepared for the device tool's NVIDIA machine (Python 3.12 with its own JAX + CUDA; nothing
# can be downloaded there). Here, once, in the repository root:
#
#   echo /.whl/ >> .git/info/exclude
#   python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 \
#       --implementation cp --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
#       -d .whl keras==3.15.1 namex==0.1.0 optree==0.17.0 rich==14.2.0
#
# then run (carry: [".whl"], timeout_s <= 600):
#
#   bash benchmarks/gpu_check.sh
#
# It prints one JSON line per batch size from benchmarks/train_step.py (samples/s, MFU against
# the GPU's measured bf16 matmul peak, peak host memory) and exits non-zero if JAX sees no GPU.
# It is never run by CI; absence of a GPU cannot fail the test suite.
set -euo pipefail
if [ -d .whl ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl
  export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
fi
export KERAS_BACKEND=jax PYTHONUNBUFFERED=1
python3 - <<'PY'
import jax
devices = jax.devices()
print({"jax": jax.__version__, "devices": [str(d) for d in devices]})
if devices[0].platform != "gpu":
    raise SystemExit("no GPU visible to JAX")
PY
for batch in 32 128; do
  timeout 240 python3 benchmarks/train_step.py --preset sensorlm_base --backend jax \
    --batch-size "$batch" --dtype-policy mixed_bfloat16 --override flash_attention=true \
    --override attention_chunk_size=none --peak-dtype bfloat16 --peak-size 8192 \
    --steps 10 --warmup 2 || echo "{\"batch_size\": $batch, \"error\": \"failed or timed out\"}"
done
