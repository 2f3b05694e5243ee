#!/usr/bin/env bash
# Plain sync views under ASGI (gunicorn + UvicornWorker, the default of `relay serve`) against WSGI
# (gunicorn sync workers, `relay serve --wsgi`): /healthz and one party's 360 page, 16 connections.
#   bench/asgi_wsgi.sh                      (the SQLite database of RELAY_VAR_DIR, e.g. after `make run`)
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/relay_bench bench/asgi_wsgi.sh
# Loopback only; each run stops after DURATION seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${PORT:-8798}
DURATION=${DURATION:-10}
BIN=.venv/bin
read -r TOKEN COOKIE PARTIES < <($BIN/python bench/credentials.py)
PARTY=$(( PARTIES / 2 ))
for mode in wsgi asgi; do
  flag=""; [ "$mode" = wsgi ] && flag="--wsgi"
  $BIN/relay serve --no-worker --no-smtpd --port "$PORT" $flag > /tmp/relay-bench-serve-$mode.log 2>&1 &
  SERVER=$!
  for _ in $(seq 1 60); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.5; done
  for path in /healthz "/parties/$PARTY/"; do
    curl -sf -o /dev/null -H "Cookie: $COOKIE" "http://127.0.0.1:$PORT$path" || echo "warning: $path did not answer 200"
    echo "== $mode $path, 16 connections, ${DURATION}s"
    wrk -t2 -c16 -d"${DURATION}s" --latency -H "Cookie: $COOKIE" "http://127.0.0.1:$PORT$path" \
      | grep -E "Requests/sec|Latency |50%|99%|Non-2xx"
  done
  kill $SERVER; wait $SERVER 2>/dev/null || true
done
