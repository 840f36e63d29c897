#!/usr/bin/env bash
# tessera serve's life on loopback: a client that leaves mid-stream, or while it waits for a whole
# response, frees its slot and KV blocks at once (/metrics); a request past --request-timeout ends with 408; SIGTERM drains (the running
# stream finishes, new requests get 503, exit 0); a failing engine step ends the running stream with
# an error event, then /health and new requests answer 503 with Retry-After; the listen backlog
# holds a burst of clients. Steps are slowed
# (TESSERA_TEST_STEP_DELAY_MS) so that requests last long enough to be left mid-way.
# Usage: http_lifecycle.sh TESSERA CONFIG CORPUS
set -u
tessera=$1 config=$2 corpus=$3
work=$(mktemp -d)
trap 'kill "$server_pid" 2>/dev/null; rm -rf "$work"' EXIT
. "$(dirname "$0")/common.sh"
make_checkpoint "$config" "$corpus"
long='{"prompt": "Notes", "max_tokens": 50, "ignore_eos": true, "stream": true}'
metric() { curl -s "$url/metrics" | sed -n "s/^$1 //p"; }
# expect_freed ABORTED WHO: nothing runs, no KV block is held, ABORTED requests ended as aborted.
expect_freed() {
  local running usage aborted
  running=$(metric tessera:num_requests_running) usage=$(metric tessera:kv_cache_usage_perc)
  aborted=$(metric 'tessera:request_success_total{finished_reason="abort"}')
  if [ "$running" = 0 ] && [ "$usage" = 0 ] && [ "$aborted" = "$1" ]; then ok "$2 frees its slot and blocks"
  else fail "$2: running=$running kv_usage=$usage aborted=$aborted"; fi
}

export TESSERA_TEST_STEP_DELAY_MS=40
start_server "$work/server.log" -- --request-timeout 1.5
# The listening socket takes a burst of clients (ss: a LISTEN socket's Send-Q is its backlog);
# cpp-httplib's own 5 dropped connections under load, and their clients retried a second later.
backlog=$(ss -Hltn "sport = :${url##*:}" | awk '{print $3}')
if [ "${backlog:-0}" -ge 128 ]; then ok "the listen backlog is $backlog"; else fail "listen backlog '${backlog:-none}'"; fi
# Disconnect: read two events, then leave; the slot and the blocks are free within 0.5 s.
python3 - "$url" "$long" <<'PY' || fail "the disconnecting client"
import http.client, sys, urllib.parse
u = urllib.parse.urlparse(sys.argv[1])
c = http.client.HTTPConnection(u.hostname, u.port)
c.request("POST", "/v1/completions", sys.argv[2], {"Content-Type": "application/json"})
r = c.getresponse()
assert r.status == 200
seen = 0
while seen < 2:
    line = r.fp.readline()
    seen += line.startswith(b"data: {")
c.sock.close()
PY
sleep 0.5
expect_freed 1 "a client gone mid-stream"
# The same for a client that leaves while it waits for a whole (non-streamed) response: it is
# running at 0.4 s (50 tokens take 2 s), its slot and blocks are free 0.4 s after it left.
python3 - "$url" <<'PY' || fail "the client that leaves a whole response"
import http.client, sys, time, urllib.parse
u = urllib.parse.urlparse(sys.argv[1])
c = http.client.HTTPConnection(u.hostname, u.port)
c.request("POST", "/v1/completions", '{"prompt": "Notes", "max_tokens": 50, "ignore_eos": true}', {"Content-Type": "application/json"})
time.sleep(0.4)
m = http.client.HTTPConnection(u.hostname, u.port)
m.request("GET", "/metrics")
assert "\ntessera:num_requests_running 1\n" in m.getresponse().read().decode(), "the request is not running"
c.sock.close()
PY
sleep 0.4
expect_freed 2 "a client gone before a whole response"
# Timeout: 50 tokens at 40 ms take 2 s, more than 1.5 s.
expect 408 POST /v1/completions '{"prompt": "Notes", "max_tokens": 50, "ignore_eos": true}'
[ "$(metric 'tessera:request_success_total{finished_reason="timeout"}')" = 1 ] || fail "the timeout is not counted"
# Drain: SIGTERM while a 1 s stream runs; it finishes, a new request is refused, exit 0.
curl -sN -H 'Content-Type: application/json' --data-binary '{"prompt": "Notes", "max_tokens": 25, "ignore_eos": true, "stream": true}' \
  "$url/v1/completions" >"$work/drained.sse" &
client=$!
sleep 0.3
kill -TERM "$server_pid"
sleep 0.2
expect 503 POST /v1/completions '{"prompt": "Notes", "max_tokens": 2}'
wait "$client"
wait "$server_pid"
rc=$?
[ "$rc" -eq 0 ] || fail "exit status $rc after SIGTERM"
if grep -q '"finish_reason":"length"' "$work/drained.sse" && tail -c 20 "$work/drained.sse" | grep -q 'data: \[DONE\]'; then
  ok "SIGTERM: the running stream finished, exit 0"
else fail "SIGTERM: the running stream was cut: $(tail -c 300 "$work/drained.sse")"; fi

# Circuit breaker: the fifth step throws.
TESSERA_TEST_STEP_FAULT_AT=5 start_server "$work/broken.log" --
curl -sN -H 'Content-Type: application/json' --data-binary "$long" "$url/v1/completions" >"$work/broken.sse"
if grep -q '^data: {"error":' "$work/broken.sse" && tail -c 20 "$work/broken.sse" | grep -q 'data: \[DONE\]'; then
  ok "a failed step ends the running stream with an error event"
else fail "the running stream after a failed step: $(tail -c 300 "$work/broken.sse")"; fi
[ "$(status GET /health "")" = 503 ] && grep -q '"broken"' "$work/body" && ok "/health: 503 broken" ||
  fail "/health after a failed step: $(cat "$work/body")"
code=$(curl -s -D "$work/headers" -o "$work/body" -w '%{http_code}' -H 'Content-Type: application/json' \
  --data-binary '{"prompt": "Notes", "max_tokens": 2}' "$url/v1/completions")
if [ "$code" = 503 ] && grep -qi '^Retry-After: [0-9]' "$work/headers"; then ok "breaker open: 503 with Retry-After"
else fail "breaker open: $code $(cat "$work/headers")"; fi
stop_server
[ "$failures" -eq 0 ] && echo "http_lifecycle: all passed"
exit "$failures"
