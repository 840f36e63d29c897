# Shared by the server tests: a small checkpoint, a server on a free loopback port, checks.
# Source it after setting: tessera (the binary), work (a temporary directory).
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
ok() { echo "ok: $*"; }

# make_checkpoint CONFIG CORPUS: a tokenizer (byte-level BPE, 300 tokens) and a model trained a few
# steps, in $work/run (context 64 tokens).
make_checkpoint() {
  "$tessera" tokenizer train --input "$2" --vocab-size 300 --out "$work/tok.json" >"$work/tok.log" 2>&1 ||
    { echo "FAIL: tokenizer"; cat "$work/tok.log"; exit 1; }
  "$tessera" train --config "$1" --run-dir "$work/run" --set train.steps=3 --set model.vocab_size=320 \
    --set model.seq_len=64 >"$work/train.log" 2>&1 || { echo "FAIL: train"; tail -5 "$work/train.log"; exit 1; }
}

# start_server LOG [LAUNCHER...] -- [SERVE OPTIONS...]: starts `tessera serve` on a free port in the
# background; sets server_pid and url; waits until /health answers 200 (wait_listening).
start_server() {
  local log=$1
  shift
  local launcher=()
  while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do launcher+=("$1"); shift; done
  shift
  "${launcher[@]}" "$tessera" serve --ckpt "$work/run" --tokenizer "$work/tok.json" --port 0 "$@" >"$log" 2>&1 &
  server_pid=$!
  wait_listening "$log"
}

# wait_listening LOG: for the server $server_pid logging to LOG: sets url once it listens, then waits
# until /health answers 200 (60 s at most each).
wait_listening() {
  local log=$1 port=""
  for _ in $(seq 600); do
    port=$(sed -n 's/.*listening on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$log" | head -1)
    [ -n "$port" ] && break
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  [ -n "$port" ] || { echo "FAIL: the server did not start"; cat "$log"; exit 1; }
  url="http://127.0.0.1:$port"
  for _ in $(seq 600); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$url/health")" = 200 ] && return 0
    sleep 0.1
  done
  echo "FAIL: the server never became ready"; cat "$log"; exit 1
}

# stop_server [SIGNAL]: SIGTERM (or SIGNAL: USR1 for mpirun, which forwards it to the ranks at once),
# then the exit status must be 0 (a drain).
stop_server() {
  kill -"${1:-TERM}" "$server_pid"
  wait "$server_pid"
  local rc=$?
  [ "$rc" -eq 0 ] || fail "the server exited with $rc after SIG${1:-TERM}"
}

# status METHOD PATH BODY [CURL ARGS...]: prints the HTTP status; the body goes to $work/body.
status() {
  local method=$1 path=$2 body=$3
  shift 3
  curl -s -o "$work/body" -w '%{http_code}' -X "$method" -H 'Content-Type: application/json' \
    ${body:+--data-binary "$body"} "$@" "$url$path"
}

# expect CODE METHOD PATH BODY [CURL ARGS...]: the status is CODE and, for errors, the body is an
# OpenAI error object.
expect() {
  local code=$1
  shift
  local got
  got=$(status "$@")
  if [ "$got" != "$code" ]; then
    fail "$1 $2 ${3:0:60}: status $got, expected $code: $(head -c 300 "$work/body")"
    return
  fi
  # (nlohmann writes keys sorted: a grep is enough, and far cheaper than a python3 per request)
  if [ "$code" -ge 400 ] && [ "$1" != HEAD ] &&
    ! grep -qx '{"error":{"code":\(null\|"[a-z_]*"\),"message":".\+","param":\(null\|".*"\),"type":"[a-z_]*"}}' "$work/body"; then
    fail "$1 $2: status $code without an OpenAI error object: $(head -c 300 "$work/body")"
    return
  fi
  ok "$1 $2 ${3:0:50} -> $code"
}
