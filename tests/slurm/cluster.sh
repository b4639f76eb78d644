#!/usr/bin/env bash
# Starts (or stops) a real one-node SLURM cluster on this machine for the tests: munged,
# slurmctld and slurmd with a minimal slurm.conf in a state folder, no systemd.
#   tests/slurm/cluster.sh start DIR   # prints the SLURM_CONF to export
#   tests/slurm/cluster.sh stop DIR
# Needs Debian's slurm-wlm and munge, and root (slurmd runs jobs as their users).
set -euo pipefail
cmd=${1:?start or stop}
state=$(mkdir -p "${2:?state folder}" && cd "$2" && pwd)
conf="$state/slurm.conf"

stop() {
  for pid in "$state"/run/*.pid; do
    [ -f "$pid" ] && kill "$(cat "$pid")" 2>/dev/null || true
  done
  sleep 1
}

if [ "$cmd" = stop ]; then
  stop
  exit 0
fi

command -v slurmctld >/dev/null && command -v munged >/dev/null || {
  echo "slurm-wlm and munge are not installed (apt-get install slurm-wlm munge)" >&2
  exit 3
}
# munged runs as its own user and must reach its folder (mktemp -d makes it root-only).
chmod 755 "$state"
mkdir -p "$state"/{spool,ctld,log,run,munge}
chown munge:munge "$state/munge"
chmod 700 "$state/munge"
key="$state/munge/munge.key"
if [ ! -f "$key" ]; then
  dd if=/dev/urandom bs=1 count=1024 of="$key" status=none
  chown munge:munge "$key"
  chmod 400 "$key"
fi
# munged as its own user, with its own key and socket in the state folder.
runuser -u munge -- munged --key-file="$key" --socket="$state/munge/munge.socket" \
  --pid-file="$state/munge/munged.pid" --log-file="$state/munge/munged.log" \
  --seed-file="$state/munge/munged.seed" --force
cp "$state/munge/munged.pid" "$state/run/munged.pid"

node=$(hostname -s)
cat > "$conf" <<CONF
ClusterName=geoplast-test
SlurmctldHost=$node
AuthType=auth/munge
AuthInfo=socket=$state/munge/munge.socket
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
ReturnToService=2
SchedulerType=sched/backfill
SlurmctldPidFile=$state/run/slurmctld.pid
SlurmdPidFile=$state/run/slurmd.pid
SlurmdSpoolDir=$state/spool
StateSaveLocation=$state/ctld
SlurmctldLogFile=$state/log/slurmctld.log
SlurmdLogFile=$state/log/slurmd.log
SlurmctldPort=16817
SlurmdPort=16818
NodeName=$node CPUs=$(nproc) RealMemory=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 / 2 )) State=UNKNOWN
PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$conf"
slurmctld -f "$conf"
slurmd -f "$conf"
# Wait until the node takes jobs.
for _ in $(seq 1 60); do
  if sinfo -h -o %T 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; then
    echo "$conf"
    exit 0
  fi
  sleep 1
done
echo "the SLURM node did not come up; logs in $state/log" >&2
sinfo >&2 || true
tail -20 "$state"/log/*.log >&2 || true
exit 1
