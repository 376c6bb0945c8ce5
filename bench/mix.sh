#!/usr/bin/env bash
# The 17:1 mix at ~1,000 requests/s for 60 s against a fresh copy of a seeded demo nation; checks bench/budgets.toml.
#   bench/mix.sh                      # defaults below; env overrides: RPS USERS DURATION WORKERS PERSONS
# Exit status: 0 when every budget is met, 1 when one is missed (or the run failed).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
RPS=${RPS:-1000}
USERS=${USERS:-100}
DURATION=${DURATION:-60s}
WORKERS=${WORKERS:-1}
PERSONS=${PERSONS:-2000}
WORK=${MEDSETTLE_BENCH_DIR:-/tmp/medsettle-bench}
STAMP=$(date +%Y%m%d-%H%M%S)
OUT=bench/out/mix-$STAMP
RUN=$WORK/mix-$STAMP
mkdir -p "$OUT" "$WORK"

"$PY" -m pip install -q -e '.[bench]' >/dev/null   # locust, pytest-benchmark, pyinstrument: from the project's extra
"$PY" bench/mixtool.py prepare "$WORK" "$PERSONS" "$RUN"
PORT=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$PY" -m medsettle.cli serve --data-dir "$RUN" --listen "127.0.0.1:$PORT" --workers "$WORKERS" --insecure >"$OUT/server.log" 2>&1 &
SERVER=$!
cleanup() { kill -TERM "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; rm -rf "$RUN"; }
trap cleanup EXIT
for _ in $(seq 100); do "$PY" -m medsettle.cli health --insecure --target "127.0.0.1:$PORT" >/dev/null 2>&1 && break; sleep 0.3; done

export MEDSETTLE_BENCH_VISITS_OUT=$RUN/visits-out.json MEDSETTLE_BENCH_VISITS_IN=$RUN/visits-in.json
export MEDSETTLE_BENCH_TASKS_PER_S=$("$PY" bench/mixtool.py rate "$RPS" "$USERS")
echo "mix: $RPS req/s target, $USERS users at $MEDSETTLE_BENCH_TASKS_PER_S tasks/s each, $DURATION, $WORKERS worker(s)"
"$PY" -m locust -f bench/locustfile.py --headless --users "$USERS" --spawn-rate "$USERS" -t "$DURATION" \
    --host "127.0.0.1:$PORT" --csv "$OUT/mix" --html "$OUT/mix.html" --only-summary --stop-timeout 10 \
    >"$OUT/locust.log" 2>&1 || true   # locust exits 1 on any failure; the budget check below decides
{ echo "command: bench/mix.sh (RPS=$RPS USERS=$USERS DURATION=$DURATION WORKERS=$WORKERS PERSONS=$PERSONS)";
  echo "machine: nproc $(nproc), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(date -u)"; } | tee "$OUT/summary.txt"
"$PY" bench/mixtool.py check "$OUT/mix_stats.csv" bench/budgets.toml | tee -a "$OUT/summary.txt"
exit "${PIPESTATUS[0]}"
