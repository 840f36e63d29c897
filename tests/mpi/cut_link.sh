#!/usr/bin/env bash
# A link cut between two hosts (common.sh: network namespaces) mid-training ends the whole job,
# mpirun and the other host's ranks included, within the collective timeout plus a few seconds,
# non-zero, with a message naming the ranks and host beyond the cut. Skips (77) without namespaces.
# Usage: cut_link.sh MPIEXEC TESSERA CONFIG
MPIEXEC=$1 tessera=$2 config=$3
source "$(dirname "$0")/common.sh"
two_hosts_up
timeout_s=5
# mpirun notices a dead link to the other host's daemon by TCP keepalive: probing after 1 s idle,
# the link dropped after two probes 3 s apart go unanswered, so about 7 s after the cut: after the
# ranks' deadline (5 s) has named the peers and before their own abort (deadline + 5 s), which
# would send into the dead link. The values of the job scripts (docs/slurm.md, "Faults").
export OMPI_MCA_oob_tcp_keepalive_time=1 OMPI_MCA_oob_tcp_keepalive_intvl=$(( (timeout_s + 1) / 2 )) \
       OMPI_MCA_oob_tcp_keepalive_probes=2
start_job "${mpirun_2h[@]}" -np 4 "$tessera" train --config "$config" --run-dir "$work/run" --set parallel.tp=2 \
  --set train.steps=1000000 --set train.batch_size=2 --set parallel.timeout_s=$timeout_s
wait_steps "$work/run" 3
cut_link
wait_end 60
[ "$rc" -ne 0 ] || fail "the job exited 0"
[ "$elapsed" -le $((timeout_s + 10)) ] || fail "the job ended $elapsed s after the cut (at most $((timeout_s + 10)))"
# dp groups {0,2} and {1,3} span the cut: ranks 0 and 1 (on $h1) name their peers on $h2 (alone
# when waiting in their dp group; among the others when the cut lands in a world collective).
grep -Eq "did not complete within $timeout_s.0 s: .*(failed|hung).*rank [23] on $h2" \
  "$work/log" || fail "no message naming a rank on $h2"
sleep 1
left=$(ip netns pids "$h2"; ip netns pids "$h1")
[ -z "$left" ] || fail "processes left on the hosts: $(ps -o pid=,args= -p $(echo $left | tr ' ' ,))"
echo "cut_link: ok (the job ended $elapsed s after the cut, exit $rc: $(grep -o "rank [23] on $h2" "$work/log" | head -1))"
