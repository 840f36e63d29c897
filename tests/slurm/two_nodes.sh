#!/usr/bin/env bash
# A 2-node Slurm cluster on one machine: two hosts (network namespaces, tests/mpi/common.sh), one
# slurmd on each under its own node name, slurmctld on the first. A job of 2 nodes x 2 tasks
# (dp 2 x tp 2), submitted with `tessera submit`, trains bit for bit as 4 ranks on one host.
# Its own cluster (state in the test's directory; ports inside the namespaces collide with none).
# Skips (77) where namespaces cannot be made.
MPIEXEC=$(command -v mpirun) config=$TEST_DATA/configs/tiny.toml  # TESSERA, TEST_DATA: from ctest
source "$(dirname "$0")/../mpi/common.sh"
two_hosts_up
dir=$work/slurm conf=$work/slurm/slurm.conf
mkdir -p "$dir/state" "$dir/log" "$dir/munge" "$dir/tmp"

# Runs a command on host $1: its network, its host name and /etc/hosts, the machine's /sys (slurmd
# needs the cgroup mounts, which `ip netns exec` hides), and its own TmpFS (the PMIx plugin names
# its directories there by job and step, not by node).
on_host() {
  local h=$1; shift
  mkdir -p "$dir/tmp-$h" "$dir/spool-$h"
  nsenter --net="/run/netns/$h" unshare --uts --mount bash -c \
    "mount --bind /etc/netns/$h/hosts /etc/hosts && mount --bind $dir/tmp-$h $dir/tmp && hostname $h && exec \"\$@\"" _ "$@"
}
daemons_down() {
  local p
  for p in "$dir/slurmd-$h1.pid" "$dir/slurmd-$h2.pid" "$dir/slurmctld.pid" "$dir/munge/munged.pid"; do
    [ -s "$p" ] && kill "$(cat "$p")" 2>/dev/null
  done
  sleep 1
}
trap 'daemons_down; cleanup' EXIT

cat > "$conf" <<CONF
ClusterName=tessera2
SlurmctldHost=$h1($net.1)
AuthInfo=socket=$dir/munge/munge.socket
StateSaveLocation=$dir/state
TmpFS=$dir/tmp
SlurmdSpoolDir=$dir/spool-%n
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd-%n.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd-%n.log
$("$(dirname "$0")/../../slurm/local-cluster.sh" settings)
NodeName=$h1 NodeAddr=$net.1 CPUs=2 RealMemory=2000 State=UNKNOWN
NodeName=$h2 NodeAddr=$net.2 CPUs=2 RealMemory=2000 State=UNKNOWN
PartitionName=two Nodes=$h1,$h2 Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES
CONF
dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
chmod 711 "$dir/munge" && chmod 400 "$dir/munge/munge.key"
munged --force --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.socket" --pid-file="$dir/munge/munged.pid" \
  --log-file="$dir/log/munged.log" --seed-file="$dir/munge/munged.seed" || fail "munged"
export SLURM_CONF=$conf
on_host "$h1" slurmctld -f "$conf" && on_host "$h1" slurmd -f "$conf" && on_host "$h2" slurmd -f "$conf" ||
  fail "the daemons did not start"
for _ in $(seq 1 100); do
  [ "$(on_h1 sinfo -h -o '%t %D' 2>/dev/null)" = "idle 2" ] && break
  sleep 0.2
done
[ "$(on_h1 sinfo -h -o '%t %D')" = "idle 2" ] || { tail -n 5 "$dir"/log/*.log >&2; fail "2 idle nodes: $(on_h1 sinfo)"; }

# The job: tessera submit (libslurm) of 2 nodes x 2 tasks, the job script's srun --mpi=pmix.
{ cat "$config"; printf '[parallel]\ntp = 2\n'; } > "$work/run.toml"
id=$(on_h1 "$TESSERA" submit --config "$work/run.toml" --run-dir "$work/two_nodes" --nodes 2 --ntasks-per-node 2 \
     2>/dev/null | head -1)
[[ "$id" =~ ^[0-9]+$ ]] || fail "submit printed '$id'"
for _ in $(seq 1 600); do
  state=$(on_h1 scontrol show job "$id" | tr ' ' '\n' | sed -n 's/^JobState=//p')
  case $state in COMPLETED|FAILED|CANCELLED) break ;; esac
  sleep 0.2
done
log=$work/two_nodes/logs/slurm-$id.out
[ "$state" = COMPLETED ] || { cat "$log" >&2; fail "job $id: $state"; }
grep -q "tessera: job $id on $h1,$h2\|tessera: job $id on tsh\[" "$log" || fail "not on both nodes: $(head -1 "$log")"
grep -q "4 rank(s): dp 2 x tp 2" "$log" || fail "not dp 2 x tp 2 on 4 ranks"
"$MPIEXEC" --oversubscribe -np 4 "$TESSERA" train --config "$work/run.toml" --run-dir "$work/one_host" >/dev/null 2>&1 ||
  fail "the one-host run failed"
diff <(losses "$work/one_host") <(losses "$work/two_nodes") || fail "losses differ between one host and two nodes"
echo "two_nodes: ok (job $id on $h1 and $h2, 2 tasks each, trained as on one host: $(losses "$work/two_nodes" | tail -1))"
