#!/bin/bash
# PPO resume with the real policy: an uninterrupted 4-step run beside one killed with SIGKILL
# right after its step-2 checkpoint and resumed with --resume. Prints, per precision, which
# files of the final checkpoint and policy are byte-identical and which log fields differ
# (only wall-clock timings may). Usage: [PRECISIONS="auto fp32 bf16"] bench/ppo_resume.sh [OUT_DIR]
# (auto: about 2 minutes on 2 cores; fp32 is far slower on a CPU)
set -u
cd "$(dirname "$0")/.."
AJ=.venv/bin/autojudge
OUT=${1:-/tmp/autojudge-ppo-resume}
echo "commit $(git rev-parse --short HEAD), $(date -u +%FT%TZ), $(nproc) cores"
for precision in ${PRECISIONS:-auto}; do
  ARGS="warm_start.enabled=false ppo.steps=4 ppo.save_every=2 ppo.batch_size=4
        ppo.minibatch_size=4 generation.max_new_tokens=12 ppo.mixed_precision=$precision"
  A=$OUT/$precision/straight B=$OUT/$precision/resumed
  rm -rf "$A" "$B"; mkdir -p "$A" "$B"
  $AJ train --out "$A" $ARGS > "$A.log" 2>&1 || { echo "straight run failed: $A.log"; exit 1; }
  $AJ train --out "$B" $ARGS > "$B.log" 2>&1 &
  pid=$!
  while [ ! -f "$B/ppo/checkpoints/step-000002/trainer_state.json" ] && kill -0 $pid 2>/dev/null; do
    sleep 0.2
  done
  kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
  echo "[$precision] killed with checkpoints: $(ls "$B/ppo/checkpoints" | tr '\n' ' ')"
  $AJ train --out "$B" --resume $ARGS > "$B.resume.log" 2>&1 || { echo "resume failed"; exit 1; }
  same=0; differ=""
  for f in $(cd "$A/ppo" && find policy checkpoints -type f | sort); do
    if cmp -s "$A/ppo/$f" "$B/ppo/$f"; then same=$((same + 1)); else differ="$differ $f"; fi
  done
  echo "[$precision] identical files: $same; differing:${differ:- none}"
  .venv/bin/python - "$A/ppo/log.jsonl" "$B/ppo/log.jsonl" "$precision" <<'PY'
import json, sys
a, b = ([json.loads(line) for line in open(p)] for p in sys.argv[1:3])
keys = sorted({k for x, y in zip(a, b) for k in x if x.get(k) != y.get(k)})
print(f"[{sys.argv[3]}] log rows {len(a)} vs {len(b)}; fields that differ: {keys or 'none'}")
PY
done
