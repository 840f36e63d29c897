#!/usr/bin/env bash
# A real single-node Slurm cluster on this machine, for tests and demos: munge, slurmctld and
# slurmd (Debian's Slurm), their state, logs, sockets and config under one directory this script
# owns, a partition sized to the machine. Idempotent: `start` on a running cluster only reports it;
# `stop` ends exactly the daemons it started (by their pid files) and keeps the logs.
#
#   slurm/local-cluster.sh start|stop|status|env|settings
#
# TESSERA_SLURM_DIR (default /tmp/tessera-slurm) is the directory; clients find the cluster with
#   export SLURM_CONF=$TESSERA_SLURM_DIR/slurm.conf      (what `env` prints)
# Needs root (slurmd runs jobs as their users) and the packages slurmctld slurmd slurm-client
# munge (scripts/setup.sh installs them).
set -euo pipefail
dir=${TESSERA_SLURM_DIR:-/tmp/tessera-slurm}
conf=$dir/slurm.conf
host=$(hostname -s)

alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# The slurm.conf settings this cluster shares with the two-node test cluster
# (tests/slurm/two_nodes.sh): root runs the daemons, munge authenticates, processes are tracked
# plainly, cores are the consumable resource, nothing is accounted.
settings() {
  cat <<CONF
SlurmUser=root
AuthType=auth/munge
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
CONF
}

write_config() {
  local cpus mem
  cpus=$(nproc)
  mem=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 * 9 / 10 ))
  mkdir -p "$dir/state" "$dir/spool" "$dir/log" "$dir/munge"
  cat > "$conf" <<CONF
# Written by slurm/local-cluster.sh: one node, this machine.
ClusterName=tessera
SlurmctldHost=$host
SlurmctldPort=${TESSERA_SLURMCTLD_PORT:-6817}
SlurmdPort=${TESSERA_SLURMD_PORT:-6818}
# cred_expire: a requeued job may start again 10 s after it ended (the default waits 120 s).
AuthInfo=socket=$dir/munge/munge.socket,cred_expire=10
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
$(settings)
SchedulerType=sched/backfill
SlurmctldTimeout=30
SlurmdTimeout=30
KillWait=30
MinJobAge=300
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=local Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES
CONF
}

start() {
  if alive "$dir/slurmctld.pid" && alive "$dir/slurmd.pid" && alive "$dir/munge/munged.pid"; then
    echo "local Slurm cluster already running ($dir)"
    return 0
  fi
  stop >/dev/null
  write_config
  [ -s "$dir/munge/munge.key" ] || dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
  chmod 700 "$dir/munge"
  chmod 400 "$dir/munge/munge.key"
  munged --force --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.socket" \
    --pid-file="$dir/munge/munged.pid" --log-file="$dir/log/munged.log" --seed-file="$dir/munge/munged.seed"
  slurmctld -f "$conf"
  slurmd -f "$conf"
  export SLURM_CONF=$conf
  for _ in $(seq 1 100); do
    if sinfo -h -o '%t' 2>/dev/null | grep -qE '^(idle|mix|alloc)'; then
      echo "local Slurm cluster up: node $host, $(nproc) CPUs, partition 'local' ($dir)"
      echo "clients: export SLURM_CONF=$conf"
      return 0
    fi
    sleep 0.2
  done
  echo "local Slurm cluster did not come up; logs in $dir/log:" >&2
  tail -n 5 "$dir"/log/*.log >&2 || true
  return 1
}

stop() {
  local stopped=0
  for pidfile in "$dir/slurmd.pid" "$dir/slurmctld.pid" "$dir/munge/munged.pid"; do
    if alive "$pidfile"; then
      local pid
      pid=$(cat "$pidfile")
      kill "$pid"
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
      stopped=$((stopped + 1))
    fi
    rm -f "$pidfile"
  done
  echo "local Slurm cluster stopped ($stopped daemons)"
}

status() {
  local down=0
  for d in munge/munged slurmctld slurmd; do
    if alive "$dir/$d.pid"; then echo "$(basename "$d"): running (pid $(cat "$dir/$d.pid"))"; else echo "$(basename "$d"): stopped"; down=1; fi
  done
  if [ "$down" -eq 0 ]; then SLURM_CONF=$conf sinfo; fi
  return $down
}

case ${1:-} in
  start) start ;;
  stop) stop ;;
  status) status ;;
  env) echo "export SLURM_CONF=$conf" ;;
  settings) settings ;;
  *) echo "usage: $0 start|stop|status|env|settings" >&2; exit 2 ;;
esac
