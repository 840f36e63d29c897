#!/usr/bin/env bash
# tessera serve on loopback, driven with curl: API keys (401), validation (400 with OpenAI error
# objects), unknown model and route (404), wrong method (405), the queue bound (429 + Retry-After),
# completions, chat, logprobs, echo, seeds, n; streamed text equals the whole response's for a
# prompt of Chinese and emoji (byte-level tokens split characters), every event valid UTF-8 JSON.
# Usage: http_api.sh TESSERA CONFIG CORPUS
set -u
tessera=$1 config=$2 corpus=$3
work=$(mktemp -d)
trap 'kill "$server_pid" 2>/dev/null; rm -rf "$work"' EXIT
. "$(dirname "$0")/common.sh"
make_checkpoint "$config" "$corpus"
echo "sk-test-123" >"$work/keys"
echo "admin-456" >"$work/admin"
start_server "$work/server.log" -- --api-key-file "$work/keys" --admin-key-file "$work/admin" --max-n 4 \
  --max-queued-tokens 40
auth=(-H "Authorization: Bearer sk-test-123")
model="$work/run"

# Keys.
expect 200 GET /health ""
expect 401 GET /v1/models ""
expect 401 GET /v1/models "" -H "Authorization: Bearer sk-test-12"
expect 401 POST /v1/completions '{"prompt": "a"}' -H "Authorization: Bearer admin-456"
expect 200 GET /v1/models "" "${auth[@]}"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))["data"]; assert d[0]["id"]==sys.argv[2], d' "$work/body" "$model" ||
  fail "/v1/models does not list $model"
expect 401 POST /admin/stop "" "${auth[@]}"
grep -q "sk-test-123" "$work/server.log" && fail "the server log shows an API key"

# Validation: 400 naming the field, 404, 405; the server keeps serving.
for body in '{"prompt": "a", ' '[1, 2]' '"text"' '{"prompt": 5}' '{"prompt": "a", "max_tokens": "8"}' \
  '{"prompt": "a", "max_tokens": -1}' '{"prompt": "a", "max_tokens": 0}' '{"prompt": "a", "max_tokens": 1e30}' \
  '{"prompt": "a", "max_tokens": 100000000000000000000}' '{"prompt": "a", "max_tokens": 1000000}' \
  '{"prompt": "a", "temperature": -1}' '{"prompt": "a", "top_p": 0}' '{"prompt": "a", "n": 5}' \
  '{"prompt": "a", "n": 0}' '{"prompt": "a", "unknown_field": 1}' '{"prompt": "a", "best_of": 2}' \
  '{"prompt": ""}' '{"prompt": []}' '{"prompt": ["a", "b"]}' '{"prompt": [1, 999999]}' '{"prompt": "a", "stop": [1]}' \
  '{"prompt": "a", "stop": ["a","b","c","d","e"]}' '{"prompt": "a", "logprobs": 21}' '{"prompt": "a", "stream": "yes"}' \
  '{"prompt": "a", "stream_options": {"include_usage": true}}' '{"prompt": "a", "seed": 1.5}' \
  "{\"prompt\": \"$(printf 'word %.0s' $(seq 200))\"}" '{"prompt": "a", "max_tokens": 64}' \
  "$(printf '{"prompt": %.0s' $(seq 100))" '{"prompt": "a", "echo": 1}' '{"prompt": "a", "messages": []}'; do
  expect 400 POST /v1/completions "$body" "${auth[@]}"
done
printf '{"prompt": "\xff\xfe"}' >"$work/bad_utf8"
expect 400 POST /v1/completions "@$work/bad_utf8" "${auth[@]}"
for body in '{"messages": []}' '{"messages": [{"role": "robot", "content": "x"}]}' '{"messages": "hi"}' \
  '{"messages": [{"role": "user"}]}' '{"messages": [{"role": "user", "content": [{"type": "image_url"}]}]}' \
  '{"messages": [{"role": "user", "content": "x"}], "echo": true}' '{"prompt": "x"}' \
  '{"messages": [{"role": "user", "content": "x"}], "top_logprobs": 2}' \
  '{"messages": [{"role": "user", "content": "x", "tool_calls": []}]}' '{"messages": [{"role": "user", "content": "x"}], "tools": []}'; do
  expect 400 POST /v1/chat/completions "$body" "${auth[@]}"
done
expect 404 POST /v1/completions '{"model": "gpt-4", "prompt": "a"}' "${auth[@]}"
expect 404 GET /v1/nothing "" "${auth[@]}"
expect 405 GET /v1/completions "" "${auth[@]}"
expect 405 DELETE /v1/models "" "${auth[@]}"
# Beyond the queued-token bound (40): 429 with Retry-After, and the server still serves.
long=$(seq -s, 100 149)  # 50 token ids
code=$(curl -s -D "$work/headers" -o "$work/body" -w '%{http_code}' "${auth[@]}" -H 'Content-Type: application/json' \
  --data-binary "{\"prompt\": [$long], \"max_tokens\": 2}" "$url/v1/completions")
if [ "$code" = 429 ] && grep -qi '^Retry-After: [0-9]' "$work/headers"; then ok "429 with Retry-After beyond the queued tokens"
else fail "expected 429 with Retry-After, got $code: $(cat "$work/headers" "$work/body")"; fi

# Completions and chat.
expect 200 POST /v1/completions "{\"model\": \"$model\", \"prompt\": \"Notes\", \"max_tokens\": 12, \"ignore_eos\": true}" "${auth[@]}"
python3 - "$work/body" <<'PY' || fail "completion body"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["object"] == "text_completion" and r["choices"][0]["finish_reason"] == "length", r
assert r["usage"]["completion_tokens"] == 12 and r["usage"]["total_tokens"] == 12 + r["usage"]["prompt_tokens"], r
PY
expect 200 POST /v1/completions '{"prompt": "Notes", "max_tokens": 6, "logprobs": 3, "echo": true, "ignore_eos": true}' "${auth[@]}"
python3 - "$work/body" <<'PY' || fail "logprobs and echo"
import json, sys
r = json.load(open(sys.argv[1]))
c = r["choices"][0]
assert c["text"].startswith("Notes"), c
lp = c["logprobs"]
n = r["usage"]["prompt_tokens"] + 6
assert len(lp["tokens"]) == n and len(lp["token_logprobs"]) == n and lp["token_logprobs"][0] is None, lp
for v, top in zip(lp["token_logprobs"][r["usage"]["prompt_tokens"]:], lp["top_logprobs"][r["usage"]["prompt_tokens"]:]):
    # token strings of partial characters collide as U+FFFD: up to 3 keys
    assert v <= 0 and 1 <= len(top) <= 3 and max(top.values()) >= v - 1e-9, (v, top)
PY
sampled='{"prompt": "Notes", "max_tokens": 16, "temperature": 1.0, "seed": 5, "n": 2, "ignore_eos": true}'
expect 200 POST /v1/completions "$sampled" "${auth[@]}"
cp "$work/body" "$work/seeded1"
expect 200 POST /v1/completions "$sampled" "${auth[@]}"
python3 - "$work/seeded1" "$work/body" <<'PY' || fail "seeded sampling repeats, n gives 2 choices"
import json, sys
a, b = (json.load(open(f))["choices"] for f in sys.argv[1:])
assert [c["text"] for c in a] == [c["text"] for c in b] and len(a) == 2 and a[0]["index"] == 0 and a[1]["index"] == 1
PY
chat='{"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Notes?"}], "max_tokens": 10, "logprobs": true, "top_logprobs": 2}'
expect 200 POST /v1/chat/completions "$chat" "${auth[@]}"
python3 - "$work/body" <<'PY' || fail "chat body"
import json, sys
r = json.load(open(sys.argv[1]))
c = r["choices"][0]
assert r["object"] == "chat.completion" and c["message"]["role"] == "assistant" and isinstance(c["message"]["content"], str)
assert len(c["logprobs"]["content"]) == r["usage"]["completion_tokens"], c
assert all(len(t["top_logprobs"]) == 2 for t in c["logprobs"]["content"])
PY

# Streaming equals the whole response, for text whose characters span several byte-level tokens.
for prompt in "你好，世界 🌍🚀 notes" "Notes on 🎉"; do
  body="{\"prompt\": \"$prompt\", \"max_tokens\": 30, \"ignore_eos\": true}"
  expect 200 POST /v1/completions "$body" "${auth[@]}"
  cp "$work/body" "$work/whole.json"
  curl -sN "${auth[@]}" -H 'Content-Type: application/json' --data-binary "${body%\}}, \"stream\": true}" \
    "$url/v1/completions" >"$work/stream.sse"
  if out=$(python3 "$(dirname "$0")/check_stream.py" "$work/stream.sse" "$work/whole.json" 2>&1); then
    ok "stream of '$prompt' equals the whole response: $out"
  else fail "stream of '$prompt': $out"; fi
done
body='{"messages": [{"role": "user", "content": "你好 🌍"}], "max_tokens": 30, "ignore_eos": true}'
expect 200 POST /v1/chat/completions "$body" "${auth[@]}"
cp "$work/body" "$work/whole.json"
curl -sN "${auth[@]}" -H 'Content-Type: application/json' \
  --data-binary "${body%\}}, \"stream\": true, \"stream_options\": {\"include_usage\": true}}" \
  "$url/v1/chat/completions" >"$work/stream.sse"
if out=$(python3 "$(dirname "$0")/check_stream.py" "$work/stream.sse" "$work/whole.json" chat 2>&1); then
  ok "chat stream equals the whole response: $out"
else fail "chat stream: $out"; fi
grep -q '"usage":{"completion_tokens":30' "$work/stream.sse" || fail "the chat stream has no usage chunk"

# A flood beyond the queue: every answer is 200 or 429 (with Retry-After, the queue's estimated
# wait, in [1, 60] s), and the server serves afterwards.
flood=()
for i in $(seq 24); do
  curl -s -o /dev/null -w '%{http_code} %header{retry-after}\n' "${auth[@]}" -H 'Content-Type: application/json' \
    --data-binary '{"prompt": "Notes on the flood", "max_tokens": 20}' "$url/v1/completions" >>"$work/flood" &
  flood+=($!)
done
wait "${flood[@]}"
bad=$(grep -cv '^\(200 \|429 \([1-9]\|[1-5][0-9]\|60\)\)$' "$work/flood")
[ "$bad" -eq 0 ] && ok "flood: $(cut -c1-3 "$work/flood" | sort | uniq -c | tr '\n' ' ')" || fail "flood: $(sort "$work/flood" | uniq -c | tr '\n' ' ')"
expect 200 POST /v1/completions '{"prompt": "still there", "max_tokens": 2}' "${auth[@]}"
curl -s "${auth[@]}" "$url/metrics" >"$work/metrics"
grep -q '^tessera:request_rejected_total{reason="queue_full"} [1-9]' "$work/metrics" || fail "metrics miss the 429"
grep -q '^tessera:num_requests_running 0$' "$work/metrics" || fail "metrics: requests still running"
grep -q '^tessera:time_to_first_token_seconds_count [1-9]' "$work/metrics" || fail "metrics: no TTFT"

expect 200 POST /admin/stop "{}" -H "Authorization: Bearer admin-456"
wait "$server_pid"
rc=$?
[ "$rc" -eq 0 ] && ok "POST /admin/stop drains and exits 0" || fail "exit status $rc after /admin/stop"
[ "$failures" -eq 0 ] && echo "http_api: all passed"
exit "$failures"
