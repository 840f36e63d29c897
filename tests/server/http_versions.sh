#!/usr/bin/env bash
# Versions on a live tessera serve: admin routes need the admin key (401); bad references get 400
# or 404 with an OpenAI error object; a version loaded, promoted and retired under steady traffic
# fails no request; a canary at 25% takes its share of 400 users within 4 binomial sigmas
# (100 +- 34.6), each user sticks to the version the FNV-1a hash of its `user` gives; rollback
# unloads the canary; every response names its version; the audit log holds every change with the
# admin key's fingerprint, never the key.
# Usage: http_versions.sh TESSERA CONFIG CORPUS
set -u
tessera=$1 config=$2 corpus=$3
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'touch "$work/stop"; kill "$server_pid" "$traffic_pid" 2>/dev/null; rm -rf "$work"' EXIT
. "$here/common.sh"
make_checkpoint "$config" "$corpus"
echo "sk-admin-789" >"$work/admin"
admin=(-H "Authorization: Bearer sk-admin-789")
start_server "$work/server.log" -- --admin-key-file "$work/admin" --audit-log "$work/audit.jsonl" --served-model-name tiny
# A second version of the run: 5 more steps, tagged "candidate".
"$tessera" train --config "$config" --run-dir "$work/run" --set train.steps=8 --set model.vocab_size=320 \
  --set model.seq_len=64 >"$work/train2.log" 2>&1 || { fail "train on"; tail -5 "$work/train2.log"; }
"$tessera" ckpt tag "$work/run" 8 candidate >/dev/null || fail "tag"
candidate="$work/run:candidate"

# Keys and bad requests.
expect 401 GET /admin/versions ""
expect 401 POST /admin/versions/load "{\"ref\": \"$candidate\"}" -H "Authorization: Bearer sk-wrong"
expect 404 POST /admin/versions/load '{"ref": "/nonexistent/run"}' "${admin[@]}"
expect 404 POST /admin/versions/load "{\"ref\": \"$work/run:no-such-tag\"}" "${admin[@]}"
expect 404 POST /admin/versions/load '{"model": "/nonexistent.gguf"}' "${admin[@]}"
expect 400 POST /admin/versions/load "{\"model\": \"$work/tok.json\"}" "${admin[@]}"
expect 400 POST /admin/versions/load '{}' "${admin[@]}"
expect 400 POST /admin/versions/load '{"ref": 5}' "${admin[@]}"
expect 400 POST /admin/versions/load '{"ref": "a", "zzz": 1}' "${admin[@]}"
expect 400 POST /admin/versions/load '{"ref": ' "${admin[@]}"
expect 400 POST /admin/versions/load "{\"ref\": \"$candidate\", \"version\": \"a/b\"}" "${admin[@]}"
expect 400 POST /admin/versions/load "{\"ref\": \"$candidate\", \"percent\": 101}" "${admin[@]}"
expect 409 POST /admin/versions/promote '{}' "${admin[@]}"
expect 404 POST /admin/versions/unknown '{}' "${admin[@]}"

version_of() {  # the version that answered $work/body, checked against the header in $work/headers
  python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["system_fingerprint"])' "$work/body"
}
complete() {  # complete BODY: POST /v1/completions, headers in $work/headers
  curl -s -D "$work/headers" -o "$work/body" -w '%{http_code}' -H 'Content-Type: application/json' \
    --data-binary "$1" "$url/v1/completions"
}

# Load the candidate as a canary at 25% under steady traffic.
rm -f "$work/stop"
python3 "$here/traffic.py" "$url" "$work/traffic1" "$work/stop" 4 &
traffic_pid=$!
sleep 1
expect 200 POST /admin/versions/load "{\"ref\": \"$candidate\", \"percent\": 25}" "${admin[@]}"
python3 - "$work/body" "$work/run" <<'PY' || fail "the version list after the load"
import json, sys
j = json.load(open(sys.argv[1]))
v = {e["version"]: e for e in j["versions"]}
assert j["primary"] == "v1" and set(v) == {"v1", "v2"}, j
assert v["v1"]["traffic_percent"] == 75 and v["v1"]["role"] == "primary", j
assert v["v2"]["traffic_percent"] == 25 and v["v2"]["role"] == "canary" and v["v2"]["tags"] == ["candidate"], j
assert v["v2"]["ref"] == sys.argv[2] + ":candidate", j
PY
sleep 1
touch "$work/stop"
wait "$traffic_pid"
if ! grep -qv '^200 v[12]$' "$work/traffic1" && grep -q '^200 v1$' "$work/traffic1" && grep -q '^200 v2$' "$work/traffic1"; then
  ok "load under traffic: $(sort "$work/traffic1" | uniq -c | tr '\n' ' ')"
else fail "load under traffic: $(sort "$work/traffic1" | uniq -c | tr '\n' ' ')"; fi

# /v1/models: the served name, then each version.
expect 200 GET /v1/models ""
python3 -c 'import json,sys; ids=[d["id"] for d in json.load(open(sys.argv[1]))["data"]]; assert ids==["tiny","tiny@v1","tiny@v2"], ids' \
  "$work/body" || fail "/v1/models: $(cat "$work/body")"
# The two versions answer differently, and v2 answers what its checkpoint answers.
greedy='"prompt": "Notes", "max_tokens": 12, "temperature": 0'
[ "$(complete "{\"model\": \"tiny@v1\", $greedy}")" = 200 ] && [ "$(version_of)" = v1 ] || fail "pinned to v1"
text1=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["choices"][0]["text"])' "$work/body")
[ "$(complete "{\"model\": \"tiny@v2\", $greedy}")" = 200 ] && [ "$(version_of)" = v2 ] || fail "pinned to v2"
grep -qi '^X-Tessera-Version: v2' "$work/headers" || fail "no X-Tessera-Version header"
text2=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["choices"][0]["text"])' "$work/body")
want2=$("$tessera" generate --ckpt "$candidate" --tokenizer "$work/tok.json" --prompt Notes --max-tokens 12 2>/dev/null)
[ "Notes$text2" = "$want2" ] && [ "$text1" != "$text2" ] && ok "v1 and v2 answer differently; v2 as its checkpoint" ||
  fail "v1 '$text1' v2 '$text2' checkpoint '$want2'"
curl -sN -H 'Content-Type: application/json' --data-binary "{\"model\": \"tiny@v2\", $greedy, \"stream\": true}" \
  "$url/v1/completions" >"$work/stream.sse"
[ "$(grep -c '^data: {' "$work/stream.sse")" = "$(grep -c '"system_fingerprint":"v2"' "$work/stream.sse")" ] ||
  fail "stream chunks without the version"

# The canary's share over 400 users, and stickiness: each user meets the version its bucket gives.
python3 - "$url" <<'PY' || fail "canary share and stickiness"
import http.client, json, sys, urllib.parse
u = urllib.parse.urlparse(sys.argv[1])
c = http.client.HTTPConnection(u.hostname, u.port)
def version(user=None, header=None):
    body = {"prompt": "Notes", "max_tokens": 1}
    if user is not None:
        body["user"] = user
    c.request("POST", "/v1/completions", json.dumps(body), {"Content-Type": "application/json", **({"X-Session-Id": header} if header else {})})
    r = c.getresponse(); r.read()
    assert r.status == 200, r.status
    return r.getheader("X-Tessera-Version")
def bucket(key):
    h = 14695981039346656037
    for b in key.encode():
        h = ((h ^ b) * 1099511628211) % (1 << 64)
    return h % 10000
users = [f"user-{i}" for i in range(400)]
got = {k: version(user=k) for k in users}
canary = sum(v == "v2" for v in got.values())
assert abs(canary - 100) <= 4 * (400 * 0.25 * 0.75) ** 0.5, f"{canary} of 400 on the canary"
wrong = [k for k in users if got[k] != ("v2" if bucket(k) < 2500 else "v1")]
assert not wrong, f"users routed against their bucket: {wrong[:5]}"
for k in users[:20]:
    assert all(version(user=k) == got[k] for _ in range(3)), k
for k in users[:20]:  # the header when there is no user field
    assert version(header=k) == got[k], k
print(f"ok: canary share {canary} of 400 (bound 100 +- 34.6); sticky per user and per X-Session-Id")
PY

# Rollback: the canary leaves once idle, every request is v1's again.
expect 200 POST /admin/versions/rollback '{}' "${admin[@]}"
for _ in $(seq 50); do
  grep -q 'version v2 unloaded' "$work/server.log" && break
  sleep 0.1
done
grep -q 'version v2 unloaded' "$work/server.log" && ok "rollback: v2 unloaded" || fail "rollback: v2 never unloaded"
expect 404 POST /v1/completions '{"model": "tiny@v2", "prompt": "Notes", "max_tokens": 1}'
for i in $(seq 10); do
  [ "$(complete "{\"prompt\": \"Notes\", \"max_tokens\": 1, \"user\": \"user-$i\"}")" = 200 ] && [ "$(version_of)" = v1 ] ||
    fail "after rollback: user-$i on $(version_of)"
done

# Hot swap: load v3 staged and promote it under traffic; v1 leaves once idle; zero failures.
rm -f "$work/stop"
python3 "$here/traffic.py" "$url" "$work/traffic2" "$work/stop" 4 &
traffic_pid=$!
sleep 1
expect 200 POST /admin/versions/load "{\"ref\": \"$candidate\", \"version\": \"release-2\"}" "${admin[@]}"
sleep 0.5
expect 200 POST /admin/versions/promote '{"version": "release-2"}' "${admin[@]}"
sleep 1
touch "$work/stop"
wait "$traffic_pid"
if ! grep -qv '^200 \(v1\|release-2\)$' "$work/traffic2" && tail -1 "$work/traffic2" | grep -q '^200 release-2$'; then
  ok "hot swap under traffic: $(sort "$work/traffic2" | uniq -c | tr '\n' ' ')"
else fail "hot swap under traffic: $(sort "$work/traffic2" | uniq -c | tr '\n' ' ')"; fi
grep -q 'version v1 unloaded' "$work/server.log" && ok "promote: v1 unloaded" || fail "promote: v1 still loaded"
expect 200 GET /admin/versions "" "${admin[@]}"
python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); assert j["primary"]=="release-2" and len(j["versions"])==1, j' \
  "$work/body" || fail "versions after promote: $(cat "$work/body")"

# The audit log: every change and refusal, the key's fingerprint, never the key.
python3 - "$work/audit.jsonl" sk-admin-789 <<'PY' || fail "audit log"
import hashlib, json, sys
text = open(sys.argv[1]).read()
assert sys.argv[2] not in text, "the admin key is in the audit log"
recs = [json.loads(l) for l in text.splitlines()]
fp = "sha256:" + hashlib.sha256(sys.argv[2].encode()).hexdigest()[:16]
assert all(r["key"] == fp and r["time"].endswith("Z") and "before" in r and "after" in r for r in recs), recs[0]
done = [(r["action"], r["after"]["primary"], [v["version"] for v in r["after"]["versions"]]) for r in recs if "error" not in r]
assert done == [("load", "v1", ["v1", "v2"]), ("rollback", "v1", ["v1"]), ("load", "v1", ["v1", "release-2"]),
                ("promote", "release-2", ["release-2"])], done
refused = [r for r in recs if "error" in r]
assert len(refused) == 12 and all(r["before"] == r["after"] for r in refused), len(refused)
print(f"ok: audit log: {len(recs)} records, {len(refused)} refused")
PY
stop_server
[ "$failures" -eq 0 ] && echo "http_versions: all passed"
exit "$failures"
