#!/usr/bin/env bash
# A real single-node SLURM on this host, for tests/cluster/test_slurm.py (called from .ci/run
# before the tests). Idempotent: installs Debian's slurm-wlm and munge with apt-get if missing,
# (re)writes a minimal slurm.conf for this host, and starts munged, slurmctld and slurmd unless
# they already run. Exits 0 with a message when it cannot (no apt-get, not root): the test then
# skips with its reason.
#
#   bash tests/cluster/setup_slurm.sh          # set up and start
#   bash tests/cluster/setup_slurm.sh stop     # stop the three daemons this script started
set -uo pipefail

CONF_DIR=/etc/slurm
STATE=/var/spool/slurmctld
SPOOL=/var/spool/slurmd
LOGS=/var/log/slurm

log() { echo "setup_slurm: $*"; }

stop_daemons() {
    for pidfile in /run/slurmd.pid /run/slurmctld.pid /run/munge/munged.pid; do
        if [ -s "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
            kill "$(cat "$pidfile")" && log "stopped $(basename "$pidfile" .pid)"
        fi
    done
}

if [ "${1:-}" = "stop" ]; then
    stop_daemons
    exit 0
fi

if [ "$(id -u)" != "0" ]; then
    log "not root; cannot install or start SLURM here (the SLURM test will be skipped)"
    exit 0
fi

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    if ! command -v apt-get >/dev/null; then
        log "apt-get is not available; SLURM not installed (the SLURM test will be skipped)"
        exit 0
    fi
    log "installing slurm-wlm and munge with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends \
            slurm-wlm munge >/dev/null; }; then
        log "apt-get could not install slurm-wlm/munge (the SLURM test will be skipped)"
        exit 0
    fi
fi

HOST=$(hostname -s)
# The node's real size, as slurmd measures it; a little memory is held back for the OS.
CPUS=$(nproc)
MEM_MB=$(awk '/MemTotal/ {print int($2 / 1024 * 0.9)}' /proc/meminfo)

mkdir -p "$CONF_DIR" "$STATE" "$SPOOL" "$LOGS" /run/munge
# Two fake GPUs: a generic resource whose "device files" are /dev/null and /dev/zero, so
# `--gpus=1` requests are scheduled (and exercised) on a CPU-only host; no job sees a real GPU.
cat > "$CONF_DIR/gres.conf" <<EOF
NodeName=$HOST Name=gpu Count=2 File=/dev/null,/dev/zero
EOF
cat > "$CONF_DIR/slurm.conf" <<EOF
# Written by tests/cluster/setup_slurm.sh: one node, no accounting storage.
ClusterName=fairmedia-test
SlurmctldHost=$HOST
AuthType=auth/munge
SlurmUser=root
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
# squeue keeps reporting finished jobs for an hour, so Snakemake's status checks see them end.
MinJobAge=3600
ReturnToService=2
SchedulerType=sched/backfill
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmdSpoolDir=$SPOOL
StateSaveLocation=$STATE
SlurmctldLogFile=$LOGS/slurmctld.log
SlurmdLogFile=$LOGS/slurmd.log
GresTypes=gpu
NodeName=$HOST CPUs=$CPUS RealMemory=$MEM_MB Gres=gpu:2 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF

if [ ! -s /etc/munge/munge.key ]; then
    mkdir -p /etc/munge
    dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key status=none
fi
chown -R munge:munge /etc/munge /run/munge /var/lib/munge /var/log/munge 2>/dev/null
chmod 0400 /etc/munge/munge.key
chmod 0755 /run/munge

running() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

if ! running /run/munge/munged.pid; then
    # --force: a stale socket from an earlier run is not an error.
    if id munge >/dev/null 2>&1; then
        su -s /bin/sh munge -c "munged --force" || { log "munged failed to start"; exit 1; }
    else
        munged --force || { log "munged failed to start"; exit 1; }
    fi
    log "started munged"
fi
if ! running /run/slurmctld.pid; then
    slurmctld || { log "slurmctld failed; see $LOGS/slurmctld.log"; exit 1; }
    log "started slurmctld"
fi
if ! running /run/slurmd.pid; then
    slurmd || { log "slurmd failed; see $LOGS/slurmd.log"; exit 1; }
    log "started slurmd"
fi

# Wait for the node to register as idle (a few seconds).
for _ in $(seq 1 30); do
    state=$(sinfo -h -N -o %t 2>/dev/null | head -1)
    case "$state" in
        idle|mix|alloc) log "node $HOST is $state (CPUs=$CPUS, RealMemory=${MEM_MB} MB, gres gpu:2)"; exit 0 ;;
        down*|drain*) scontrol update NodeName="$HOST" State=RESUME 2>/dev/null ;;
    esac
    sleep 1
done
log "node $HOST did not become idle (state: ${state:-unknown}); see $LOGS/"
exit 1
