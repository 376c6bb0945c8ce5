#!/usr/bin/env bash
# The 17:1 mix at ~1,000 requests/s for 60 s; checks a budgets file (bench/budgets.toml by default).
#   bench/mix.sh                                   # a fresh copy of a seeded demo nation, served here
#   TARGET=host:port VISITS=visits.json TLS_DIR=certs/ bench/mix.sh    # a running deployment (bench/README.md)
# Env: RPS USERS DURATION WORKERS PERSONS BUDGETS AGED_DAYS (a server served here: its distributions first hold
# that many days, as a deployment's; default 0, the seeded nation's) ITEM_POOL (a server served here: the outpatient
# visits bill items drawn from that many of each province's catalog by Zipf's law; default 0, the export's ten); against a deployment: TARGET, VISITS (medsettle bench
# export-visits), TLS_DIR (mutual TLS; without it the target must be a loopback `serve --insecure`). LOG_CALLS=1 (a
# server served here): `serve --log-calls`, and the server's own time per call printed after Locust's. SERVER_PY (a
# server served here): the interpreter it runs under (default PY), e.g. the build of CPython a deployment runs, in a
# venv of its own with the project installed (bench/README.md, "Which Python").
# Exit status: 0 when every budget is met, 1 when one is missed (or the run failed).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
SERVER_PY=${SERVER_PY:-$PY}
RPS=${RPS:-1000}
USERS=${USERS:-100}
DURATION=${DURATION:-60s}
WORKERS=${WORKERS:-1}
PERSONS=${PERSONS:-2000}
AGED_DAYS=${AGED_DAYS:-0}
ITEM_POOL=${ITEM_POOL:-0}
BUDGETS=${BUDGETS:-bench/budgets.toml}
TARGET=${TARGET:-}
VISITS=${VISITS:-}
TLS_DIR=${TLS_DIR:-}
LOG_CALLS=${LOG_CALLS:-}
WORK=${MEDSETTLE_BENCH_DIR:-/tmp/medsettle-bench}
STAMP=$(date +%Y%m%d-%H%M%S)
OUT=bench/out/mix-$STAMP
RUN=$WORK/mix-$STAMP
mkdir -p "$OUT" "$WORK"

"$PY" -m pip install -q -e '.[bench]' >/dev/null   # locust, pytest-benchmark, pyinstrument: from the project's extra
SERVER=
cleanup() { [ -n "$SERVER" ] && { kill -TERM "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; }; rm -rf "$RUN"; }
trap cleanup EXIT
if [ -z "$TARGET" ]; then   # our own server on a fresh copy of the demo nation
  "$PY" bench/mixtool.py prepare "$WORK" "$PERSONS" "$RUN" "$AGED_DAYS" "$ITEM_POOL"
  VISITS=$RUN/visits.json
  PORT=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  TARGET=127.0.0.1:$PORT
  "$SERVER_PY" -m medsettle.cli serve --data-dir "$RUN" --listen "$TARGET" --workers "$WORKERS" --insecure \
      ${LOG_CALLS:+--log-calls} >"$OUT/server.log" 2>&1 &
  SERVER=$!
fi
[ -n "$VISITS" ] || { echo "mix: VISITS (medsettle bench export-visits --out FILE) is needed with TARGET" >&2; exit 1; }
if [ -n "$TLS_DIR" ]; then SECURITY=(--tls-dir "$TLS_DIR" --as national:ops); else SECURITY=(--insecure); fi
for _ in $(seq 100); do "$PY" -m medsettle.cli health "${SECURITY[@]}" --target "$TARGET" >/dev/null 2>&1 && break; sleep 0.3; done

export MEDSETTLE_BENCH_VISITS=$VISITS MEDSETTLE_BENCH_TLS_DIR=$TLS_DIR
export MEDSETTLE_BENCH_TASKS_PER_S=$("$PY" bench/mixtool.py rate "$RPS" "$USERS")
echo "mix: $RPS req/s target against $TARGET, $USERS users at $MEDSETTLE_BENCH_TASKS_PER_S tasks/s each, $DURATION"
"$PY" -m locust -f bench/locustfile.py --headless --users "$USERS" --spawn-rate "$USERS" -t "$DURATION" \
    --host "$TARGET" --csv "$OUT/mix" --csv-full-history --html "$OUT/mix.html" --only-summary --stop-timeout 10 \
    >"$OUT/locust.log" 2>&1 || true   # locust exits 1 on any failure; the budget check below decides
{ echo "command: bench/mix.sh (RPS=$RPS USERS=$USERS DURATION=$DURATION TARGET=$TARGET${SERVER:+ (served here, WORKERS=$WORKERS PERSONS=$PERSONS AGED_DAYS=$AGED_DAYS ITEM_POOL=$ITEM_POOL, $("$SERVER_PY" -c 'import sys; print("Python", sys.version.split()[0])'))} TLS=${TLS_DIR:-no})";
  echo "machine: nproc $(nproc), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u)"; } | tee "$OUT/summary.txt"
set +e
"$PY" bench/mixtool.py check "$OUT/mix_stats.csv" "$BUDGETS" | tee -a "$OUT/summary.txt"
verdict=${PIPESTATUS[0]}
if [ -n "$LOG_CALLS" ] && [ -n "$SERVER" ]; then "$PY" bench/mixtool.py handlers "$OUT/server.log" | tee -a "$OUT/summary.txt"; fi
exit "$verdict"
