#!/usr/bin/env bash
# 4 ranks on 2 hosts (dp 2 x tp 2; two network namespaces, common.sh) train bit for bit as 4
# ranks on one host. Skips with exit 77 where namespaces cannot be made.
# Usage: multihost.sh MPIEXEC TESSERA CONFIG
MPIEXEC=$1 tessera=$2 config=$3
source "$(dirname "$0")/common.sh"
two_hosts_up

train() {  # $1: run directory; the rest: how to start mpirun
  local run=$1; shift
  "$@" "$tessera" train --config "$config" --run-dir "$run" --set parallel.tp=2 --set train.steps=8 \
    --set checkpoint.every=4 > "$run.log" 2>&1 || { cat "$run.log" >&2; fail "training in $run failed"; }
}
train "$work/two_hosts" "${mpirun_2h[@]}" -np 4
train "$work/one_host" "$MPIEXEC" --oversubscribe -np 4
# The same launch runs two ranks under each host name.
names=$("${mpirun_2h[@]}" -np 4 hostname | sort | uniq -c | tr -s ' ')
[ "$names" = "$(printf ' 2 %s\n 2 %s' "$h1" "$h2")" ] || fail "ranks per host: $names"
grep -q "4 rank(s): dp 2 x tp 2" "$work/two_hosts.log" || fail "not dp 2 x tp 2 on 4 ranks"
diff <(losses "$work/one_host") <(losses "$work/two_hosts") || fail "losses differ between one host and two"
echo "multihost: ok (4 ranks on $h1 and $h2 trained as on one host: $(losses "$work/two_hosts" | tail -1))"
