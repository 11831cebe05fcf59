#!/usr/bin/env bash
# Re-measure every figure in bench/RESULTS.md on a quiet machine. Writes raw outputs to
# bench/out/ (not committed); RESULTS.md quotes them with this command and the machine line.
#   bash bench/record.sh            # everything (~15 min on 2 cores)
#   bash bench/record.sh gemm train # some sections
set -uo pipefail
cd "$(dirname "$0")"
mkdir -p out
sections=("$@")
[ ${#sections[@]} -gt 0 ] || sections=(info gemm train conv rnn native)
unset_blas="env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE"
for s in "${sections[@]}"; do
  case "$s" in
    info)  minnet-bench --info > out/info.txt 2>&1 ;;
    gemm)  minnet-bench kernels --op gemm --threads 1,2 --repeat 7 --json out/gemm.json \
               > out/gemm.txt 2>&1
           # as set vs unset only differ where the machine sets OPENBLAS_* (recorded in info)
           if env | grep -q '^OPENBLAS_'; then
             $unset_blas minnet-bench kernels --op gemm --threads 1,2 --repeat 7 \
               --json out/gemm_unset.json > out/gemm_unset.txt 2>&1
           fi ;;
    train) minnet-bench train --model all --threads 2,1 --torch-nopf --json out/train.json \
               > out/train.txt 2>&1 ;;
    conv)  # torch also in a worker with glibc's mmap/trim thresholds pinned (no page faults)
           minnet-bench kernels --op conv2d,maxpool2d,avgpool2d,batchnorm2d,conv_relu_pool \
               --threads 1,2 --torch-nopf --json out/conv.json > out/conv.txt 2>&1 ;;
    rnn)   minnet-bench kernels --op gru,lstm,rnn --threads 2,1 --json out/rnn.json \
               > out/rnn.txt 2>&1 ;;
    native)  # MINNET_NATIVE=1 build in a scratch copy, same cases, same run order
           rm -rf /tmp/minnet-native && git clone -q .. /tmp/minnet-native \
             && (cd /tmp/minnet-native && MINNET_NATIVE=1 python setup.py build_ext --inplace -q > /dev/null 2>&1) \
             && for build in portable native; do
                  if [ $build = native ]; then pp=/tmp/minnet-native; else pp=..; fi
                  echo "== $build"; PYTHONPATH=$pp python -c "import minnet; print(minnet.build_info()['cflags'])"
                  PYTHONPATH=$pp python -m minnet.bench kernels --op gemm --threads 2 --quick --no-torch
                  PYTHONPATH=$pp python -m minnet.bench train --model mlp512,mlp3x128 --threads 2 --compare none
                done > out/native.txt 2>&1 ;;
  esac
  echo "done: $s"
done
