#!/usr/bin/env bash
# HTTP throughput with 16 concurrent clients against `relay serve` (gunicorn, one process per core).
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/relay_bench bench/http.sh
# Served as behind a reverse proxy that logs: no gunicorn access log. Needs wrk (apt-get install wrk).
# Loopback only; each run stops after DURATION seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${PORT:-8799}
DURATION=${DURATION:-20}
BIN=.venv/bin
$BIN/relay serve --no-worker --no-smtpd --no-access-log --port "$PORT" ${SERVE_FLAGS:-} > var/bench-serve.log 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 60); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.5; done
read -r TOKEN COOKIE PARTIES < <($BIN/python bench/credentials.py)
export TOKEN COOKIE PARTIES
# warm up every worker (imports, connection pools, caches) before anything is measured
for script in lookup list list_deep; do wrk -t2 -c16 -d3s -s "bench/$script.lua" "http://127.0.0.1:$PORT" >/dev/null; done
echo "== phone lookup (API), 16 connections, ${DURATION}s"
wrk -t2 -c16 -d"${DURATION}s" --latency -s bench/lookup.lua "http://127.0.0.1:$PORT" | grep -E "Requests/sec|Latency|50%|99%|Non-2xx"
echo "== party list page (UI, first pages: filters and sorts), 16 connections, ${DURATION}s"
wrk -t2 -c16 -d"${DURATION}s" --latency -s bench/list.lua "http://127.0.0.1:$PORT" | grep -E "Requests/sec|Latency|50%|99%|Non-2xx"
echo "== party list page (UI, random pages deep in the list), 16 connections, ${DURATION}s"
wrk -t2 -c16 -d"${DURATION}s" --latency -s bench/list_deep.lua "http://127.0.0.1:$PORT" | grep -E "Requests/sec|Latency|50%|99%|Non-2xx"
