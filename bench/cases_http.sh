#!/usr/bin/env bash
# Case creation through the HTTP API (issue 3): POST /api/v1/cases/ with 16 concurrent connections
# against `relay serve --no-worker` (gunicorn, 2 processes per core), on loopback, for DURATION seconds.
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/relay_bench bench/cases_http.sh
# Run bench/cases.py once first (it creates the bench departments, agents and routing rules).
# Needs wrk. It writes cases into the configured database: a benchmark database only.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${PORT:-8798}
DURATION=${DURATION:-20}
BIN=.venv/bin
mkdir -p var
$BIN/relay serve --no-worker --port "$PORT" > var/bench-cases-serve.log 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 60); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.5; done
TOKEN=$($BIN/relay apitoken bench-care-0 --name cases-http-bench | tail -1)
PARTIES=$($BIN/python -c "
import os, django; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'relay.config.settings'); django.setup()
from relay.customers.models import Party; print(Party.objects.order_by('-id').values_list('id', flat=True).first() or 1)")
export TOKEN PARTIES
BEFORE=$($BIN/python -c "
import os, django; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'relay.config.settings'); django.setup()
from relay.cases.models import Case; print(Case.objects.order_by('-id').values_list('id', flat=True).first() or 0)")
echo "== POST /api/v1/cases/ (create + route + outbox), 16 connections, ${DURATION}s"
wrk -t2 -c16 -d"${DURATION}s" --latency -s bench/cases_create.lua "http://127.0.0.1:$PORT" \
  | grep -E "Requests/sec|Latency|50%|90%|99%|Non-2xx|requests in"
$BIN/python -c "
import os, django; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'relay.config.settings'); django.setup()
from relay.cases.models import Case; print('cases created:', Case.objects.filter(pk__gt=$BEFORE).count())"
