# Shared by the MPI shell tests (sourced): a work directory, a training job in the background and
# its end, and two hosts on one machine.
#
# Two hosts: network namespaces $h1 and $h2 joined by the veth pair $veth1 <-> $veth2 on
# $net.0/24, each with its own /etc/hosts (ip netns exec binds /etc/netns/NAME/hosts) and, when a
# command runs there, its own host name (a UTS namespace: with one shared name Open MPI's
# shared-memory split hangs or crashes). Traffic stays on the veth pair and loopback. Needs root.
#   two_hosts_up        makes them (exit 77, skipped, where namespaces cannot be made)
#   on_h1 CMD...        runs CMD on $h1 under its host name
#   "${mpirun_2h[@]}"   mpirun on $h1 launching on both hosts, two slots each: add -np and the program
#   cut_link            takes the link down (from $h2's side)
set -uo pipefail
tag=$$
h1=tsh1-$tag h2=tsh2-$tag net=10.213.$((tag % 200 + 20)) veth1=va$tag veth2=vb$tag
work=$(mktemp -d)
job=
cleanup() {
  [ -n "$job" ] && kill -9 "$job" 2>/dev/null
  ip netns del "$h1" 2>/dev/null; ip netns del "$h2" 2>/dev/null
  rm -rf "/etc/netns/$h1" "/etc/netns/$h2" "$work"
}
trap cleanup EXIT
fail() { echo "$(basename "$0"): FAIL: $*" >&2; [ -s "$work/log" ] && tail -n 20 "$work/log" >&2; exit 1; }

# step loss, one line per step, from a run directory's metrics.jsonl.
losses() { sed 's/.*"loss":\([^,}]*\).*"step":\([0-9]*\).*/\2 \1/' "$1/metrics.jsonl"; }

# Starts a command in the background ($job), its output in $work/log.
start_job() { "$@" > "$work/log" 2>&1 & job=$!; }

# Waits until the run in $1 has logged $2 steps (at most 60 s).
wait_steps() {
  for _ in $(seq 1 300); do
    [ -s "$1/metrics.jsonl" ] && [ "$(wc -l <"$1/metrics.jsonl")" -ge "$2" ] && return 0
    kill -0 "$job" 2>/dev/null || fail "the job ended before step $2"
    sleep 0.2
  done
  fail "the run in $1 did not reach step $2"
}

# Waits at most $1 seconds for $job to end; sets $rc (its status) and $elapsed (whole seconds).
wait_end() {
  local start=$SECONDS
  for _ in $(seq 1 $(( $1 * 10 ))); do
    kill -0 "$job" 2>/dev/null || break
    sleep 0.1
  done
  elapsed=$(( SECONDS - start ))
  kill -0 "$job" 2>/dev/null && fail "the job still runs $elapsed s later"
  wait "$job"; rc=$?; job=
}

two_hosts_up() {
  if ! ip netns add "$h1" 2>/dev/null; then echo "$(basename "$0"): skipped: cannot create network namespaces"; exit 77; fi
  ip netns add "$h2" || fail "ip netns add $h2"
  ip link add "$veth1" type veth peer name "$veth2" || fail "ip link add"
  ip link set "$veth1" netns "$h1" && ip link set "$veth2" netns "$h2" || fail "moving the veth ends"
  ip netns exec "$h1" ip addr add "$net.1/24" dev "$veth1"
  ip netns exec "$h2" ip addr add "$net.2/24" dev "$veth2"
  local h
  for h in "$h1" "$h2"; do
    ip netns exec "$h" ip link set lo up
    mkdir -p "/etc/netns/$h"
    printf '127.0.0.1 localhost\n%s.1 %s\n%s.2 %s\n' "$net" "$h1" "$net" "$h2" > "/etc/netns/$h/hosts"
  done
  ip netns exec "$h1" ip link set "$veth1" up
  ip netns exec "$h2" ip link set "$veth2" up
  # Open MPI starts its daemon on the other host through this agent, as it would through ssh.
  cat > "$work/agent" <<'AGENT'
#!/usr/bin/env bash
host=$1; shift
exec ip netns exec "$host" unshare --uts bash -c "hostname $host; $*"
AGENT
  chmod +x "$work/agent"
  mpirun_2h=(on_h1 "$MPIEXEC" --mca plm_rsh_agent "$work/agent" --mca btl tcp,self
             --mca btl_tcp_if_include "$net.0/24" --mca oob_tcp_if_include "$net.0/24" -H "$h1:2,$h2:2")
}

on_h1() { ip netns exec "$h1" unshare --uts bash -c "hostname $h1; exec \"\$@\"" _ "$@"; }

cut_link() { ip netns exec "$h2" ip link set "$veth2" down; }
