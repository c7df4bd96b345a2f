"""``sensorlm export``: write a trained run as a TensorFlow SavedModel for TensorFlow Serving."""

import argparse

_EPILOG = """\
example:
  sensorlm export --run runs/base --out saved_models
  -> saved_models/sensorlm/1/  (saved_model.pb, variables/, assets/sensorlm_export.json,
     assets/tokenizer.model); the next export without --version becomes version 2

signatures (inputs -> outputs):
  embed_sensor (= serving_default)  sensor float32 (B, T, C) z-scores -> sensor_embeddings (B, D)
  embed_sensor_masked  sensor + sensor_mask bool (B, T, C), True = missing (imputed as in
                       training) -> sensor_embeddings
  embed_text           texts string (N,) (tokenised in the graph) -> text_embeddings (N, D)
  embed_text_ids       token_ids int32 (N, L) + padding_mask bool (N, L) -> text_embeddings
  tokenize             texts -> token_ids, padding_mask
  score                sensor + texts -> logits, probabilities (B, N)
  zero_shot            sensor + class_names (K,) -> probabilities, logits, class_distribution
                       (B, K), predicted_index, predicted_class (B,)
  zero_shot_templates  zero_shot + prompt_templates (P,), each containing "{}"
  metadata             no inputs -> channel names/means/stds, z_clip, tokenizer proto, JSON

serve it with TensorFlow Serving (REST on port 8501):
  docker run -p 8501:8501 \\
    --mount type=bind,source=$PWD/saved_models/sensorlm,target=/models/sensorlm \\
    -e MODEL_NAME=sensorlm -t tensorflow/serving

REST request (columnar "inputs"; one (1440, 34) z-scored day per sensor row):
  curl -X POST http://localhost:8501/v1/models/sensorlm:predict -d '{
    "signature_name": "zero_shot",
    "inputs": {"sensor": [[[0.1, -0.3, ...], ...]], "class_names": ["run", "sleep"]}}'
  -> {"outputs": {"probabilities": [[0.71, 0.02]], "predicted_index": [0],
                  "predicted_class": ["run"], "logits": [[...]], "class_distribution": [[...]]}}

Runs trained on any backend can be exported; from a JAX or PyTorch process the export runs in
a TensorFlow subprocess. Limits (--max-batch-size, text length) are enforced in the graph.
"""


def add_parser(subparsers):
    """Register ``sensorlm export``."""
    parser = subparsers.add_parser(
        "export",
        help="export a trained run as a TensorFlow SavedModel (TF Serving)",
        description=(
            "Export a trained SensorLM run directory as a TensorFlow SavedModel at\n"
            "OUT/NAME/VERSION (the layout TensorFlow Serving loads). Text signatures tokenise\n"
            "raw strings inside the graph with the run's SentencePiece model; the preprocessing\n"
            "constants and the tokenizer are stored in assets/ and in the metadata signature."
        ),
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--run", required=True, help="trained run directory (model.keras, "
                        "tokenizer/, run_config.json)")
    parser.add_argument("--out", default="saved_models",
                        help="export base directory (default: saved_models)")
    parser.add_argument("--name", default="sensorlm",
                        help="model name, the TF Serving MODEL_NAME (default: sensorlm)")
    parser.add_argument("--version", type=int, default=None,
                        help="integer version (default: the highest existing version + 1)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace an existing version directory (atomically)")
    parser.add_argument("--max-batch-size", type=int, default=256,
                        help="largest batch (sensor rows, texts, class names) a request may "
                        "carry (default: 256)")
    parser.add_argument("--max-text-length", type=int, default=20000, dest="max_text_length",
                        help="longest text in characters a request may carry (default: 20000)")
    parser.set_defaults(func=run_export)


def run_export(args):
    from sensorlm_keras.export import export_saved_model

    result = export_saved_model(
        args.run,
        args.out,
        name=args.name,
        version=args.version,
        overwrite=args.overwrite,
        max_batch_size=args.max_batch_size,
        max_text_length_chars=args.max_text_length,
    )
    names = [s for s in result.signatures if s != "serving_default"]  # registration order
    print(f"exported SavedModel: {result.path}")
    print(f"model name: {result.name}  version: {result.version}")
    print(f"signatures: serving_default (= embed_sensor), {', '.join(names)}")
    return 0
