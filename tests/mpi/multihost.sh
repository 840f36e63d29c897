#!/usr/bin/env bash
# Two hosts on one machine: network namespaces joined by a veth pair, each with its own host name
# (a UTS namespace: with one shared name Open MPI's shared-memory split hangs or crashes) and its
# own /etc/hosts (ip netns exec binds /etc/netns/NAME/hosts). 4 ranks on 2 hosts (dp 2 x tp 2)
# train bit for bit as 4 ranks on one host. Traffic stays on the veth pair and loopback.
# Needs root (ip netns); skips with exit 77 where namespaces cannot be made.
# Usage: multihost.sh MPIEXEC TESSERA CONFIG
set -uo pipefail
mpiexec=$1 tessera=$2 config=$3
tag=$$
h1=tsh1-$tag h2=tsh2-$tag net=10.213.$((tag % 200 + 20))
work=$(mktemp -d)
cleanup() {
  ip netns del "$h1" 2>/dev/null; ip netns del "$h2" 2>/dev/null
  rm -rf "/etc/netns/$h1" "/etc/netns/$h2" "$work"
}
trap cleanup EXIT
fail() { echo "multihost: FAIL: $*" >&2; exit 1; }

if ! ip netns add "$h1" 2>/dev/null; then echo "multihost: skipped: cannot create network namespaces"; exit 77; fi
ip netns add "$h2" || fail "ip netns add $h2"
ip link add "va$tag" type veth peer name "vb$tag" || fail "ip link add"
ip link set "va$tag" netns "$h1" && ip link set "vb$tag" netns "$h2" || fail "moving the veth ends"
ip netns exec "$h1" ip addr add "$net.1/24" dev "va$tag"
ip netns exec "$h2" ip addr add "$net.2/24" dev "vb$tag"
for h in "$h1" "$h2"; do
  ip netns exec "$h" ip link set lo up
  mkdir -p "/etc/netns/$h"
  printf '127.0.0.1 localhost\n%s.1 %s\n%s.2 %s\n' "$net" "$h1" "$net" "$h2" > "/etc/netns/$h/hosts"
done
ip netns exec "$h1" ip link set "va$tag" up
ip netns exec "$h2" ip link set "vb$tag" up

# Open MPI starts its daemon on the other host through this agent, as it would through ssh.
cat > "$work/agent" <<'AGENT'
#!/usr/bin/env bash
host=$1; shift
exec ip netns exec "$host" unshare --uts bash -c "hostname $host; $*"
AGENT
chmod +x "$work/agent"

train() {  # $1: run directory; the rest: how to start mpirun
  local run=$1; shift
  "$@" "$tessera" train --config "$config" --run-dir "$run" --set parallel.tp=2 --set train.steps=8 \
    --set checkpoint.every=4 > "$run.log" 2>&1 || { cat "$run.log" >&2; fail "training in $run failed"; }
}
mpi_net=(--mca btl tcp,self --mca btl_tcp_if_include "$net.0/24" --mca oob_tcp_if_include "$net.0/24")
train "$work/two_hosts" ip netns exec "$h1" unshare --uts bash -c "hostname $h1; exec \"\$@\"" _ \
  "$mpiexec" --mca plm_rsh_agent "$work/agent" "${mpi_net[@]}" -H "$h1:2,$h2:2" -np 4
train "$work/one_host" "$mpiexec" --oversubscribe -np 4
# The same launch runs two ranks under each host name.
names=$(ip netns exec "$h1" unshare --uts bash -c "hostname $h1; exec \"\$@\"" _ "$mpiexec" --mca plm_rsh_agent \
        "$work/agent" "${mpi_net[@]}" -H "$h1:2,$h2:2" -np 4 hostname | sort | uniq -c | tr -s ' ')
[ "$names" = "$(printf ' 2 %s\n 2 %s' "$h1" "$h2")" ] || fail "ranks per host: $names"
grep -q "4 rank(s): dp 2 x tp 2" "$work/two_hosts.log" || fail "not dp 2 x tp 2 on 4 ranks"
losses() { sed 's/.*"loss":\([^,}]*\).*"step":\([0-9]*\).*/\2 \1/' "$1/metrics.jsonl"; }
diff <(losses "$work/one_host") <(losses "$work/two_hosts") || fail "losses differ between one host and two"
echo "multihost: ok (4 ranks on $h1 and $h2 trained as on one host: $(losses "$work/two_hosts" | tail -1))"
