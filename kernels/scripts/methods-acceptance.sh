#!/usr/bin/env bash
# Quantizes feather-3m with every method of issue 4 and measures perplexity of the written folders
# (fw perplexity, llamacpp mode, ctx 256, dev.tinystories.txt). Output: one line per run on stdout
# (method, args, bytes, bits/weight of the linear layers, quantize seconds, perplexity).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
shared="${FW_SHARED:-$root/../shared}"
out="${1:-/tmp/fw-methods}"
mkdir -p "$out"
model="$root/models/feather-3m"
cal="--calibration $shared/eval/train.tinystories.tokens.u32 --samples ${SAMPLES:-64} --seq-len 256 --seed 42"
fw="$root/bin/fw"
run() {
  local name="$1"; shift
  rm -rf "$out/$name"
  local q; q=$("$fw" quantize --model "$model" "$@" --out "$out/$name" --json 2>/dev/null)
  local p; p=$("$fw" perplexity --model "$out/$name" --text "$shared/eval/dev.tinystories.txt" --ctx 256 --json 2>/dev/null)
  python3 - "$name" "$q" "$p" "$*" <<'PY'
import json, sys
q = json.loads(sys.argv[2]); p = json.loads(sys.argv[3])
print(f"{sys.argv[1]:16s} bytes={q['bytes']} bpw={q['bitsPerWeight']:.3f} qsec={q['seconds']:.1f} ppl={p['perplexity']:.4f}  [{sys.argv[4]}]", flush=True)
PY
}
p=$("$fw" perplexity --model "$model" --text "$shared/eval/dev.tinystories.txt" --ctx 256 --json 2>/dev/null)
echo "fp32             ppl=$(python3 -c "import json,sys; print('%.4f' % json.loads(sys.argv[1])['perplexity'])" "$p")"
for spec in ${RUNS:-rtn4 gptq4 gptq4act awq4 rtn3 gptq3 gptq3act awq3 nf4 nf4dq fp4 int8}; do
  case $spec in
    rtn4) run rtn4 --method rtn --bits 4 --group-size 128 ;;
    gptq4) run gptq4 --method gptq --bits 4 --group-size 128 $cal ;;
    gptq4act) run gptq4act --method gptq --bits 4 --group-size 128 --act-order $cal ;;
    awq4) run awq4 --method awq --bits 4 --group-size 128 $cal ;;
    rtn3) run rtn3 --method rtn --bits 3 --group-size 128 ;;
    gptq3) run gptq3 --method gptq --bits 3 --group-size 128 $cal ;;
    gptq3act) run gptq3act --method gptq --bits 3 --group-size 128 --act-order $cal ;;
    awq3) run awq3 --method awq --bits 3 --group-size 128 $cal ;;
    nf4) run nf4 --method nf4 ;;
    nf4dq) run nf4dq --method nf4 --double-quant ;;
    fp4) run fp4 --method fp4 ;;
    fp4dq) run fp4dq --method fp4 --double-quant ;;
    int8) run int8 --method llm-int8 ;;
  esac
done
