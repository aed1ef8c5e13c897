#!/usr/bin/env bash
# GPU check of sksoft, run on a CUDA machine from the repository root:
#   1. build and install sksoft there (no network: skorch comes as a wheel in .device/wheels),
#   2. the device="cuda"/"auto" tests, 3. training time per epoch on GPU vs CPU,
#   4. the CNN study on CIFAR-10H (.device/data/cifar10h_aligned.npz) with --device cuda, in
#      both training regimes (EPOCHS caps both; unset: 30 regularised, <= 100 overparameterised).
# Up to 8 files go to $OUT (default ./gpu_out). STUDY_SECONDS bounds the study (SIGINT keeps
# the partial results); SMALL=1 shrinks everything for a dry run on a CPU machine.
set -uo pipefail
OUT=${OUT:-gpu_out}
mkdir -p "$OUT"
PY=${PY:-python3}
LOG="$OUT/gpu_check.log"
log() { echo "== $* ($(date +%T))" | tee -a "$LOG"; }
log setup
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv >> "$LOG" 2>&1
$PY -m pip install -q --no-deps --no-index .device/wheels/*.whl >> "$LOG" 2>&1
$PY -m pip install -q --no-deps --no-build-isolation -e . >> "$LOG" 2>&1
$PY -c "import torch, sksoft.metrics as m; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), 'openmp', m.openmp_enabled())" >> "$LOG" 2>&1
log tests
$PY -m pytest -q -p no:cacheprovider tests/test_gpu.py >> "$LOG" 2>&1
log training benchmark
N=${SMALL:+2000}
$PY benchmarks/bench_training.py --device cpu --n "${N:-20000}" --repeat 2 --out "$OUT/train_cpu.json" >> "$LOG" 2>&1
$PY benchmarks/bench_training.py --device cuda --n "${N:-20000}" --repeat 2 --out "$OUT/train_cuda.json" >> "$LOG" 2>&1
log study
STUDY=${STUDY_DIR:-/tmp/sksoft_gpu_study}
EXTRA=${SMALL:+--n-items 300 --epochs 2 --seeds 1 --folds 2}
EXTRA="$EXTRA ${EPOCHS:+--epochs $EPOCHS}"
timeout -s INT "${STUDY_SECONDS:-330}" $PY -m sksoft study --data cifar10h \
  --data-path .device/data/cifar10h_aligned.npz --model cnn --device "${DEVICE:-cuda}" \
  --regime regularised overparameterised \
  --seeds 2 --folds 3 --n-jobs "${JOBS:-4}" --out "$STUDY" --no-progress $EXTRA \
  > "$STUDY.log" 2>&1
echo "study exit code $?" >> "$LOG"
tail -5 "$STUDY.log" >> "$LOG"
cp "$STUDY/summary.md" "$STUDY/results.csv" "$STUDY/dynamics.csv" "$OUT/" 2>> "$LOG"
for r in regularised overparameterised; do
  cp "$STUDY/figures/$r/dynamics.png" "$OUT/dynamics_$r.png" 2>> "$LOG"
done
log done
