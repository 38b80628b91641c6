#!/usr/bin/env bash
# A one-node SLURM cluster on this machine, for tests/test_slurm.py (snakemake --profile profiles/slurm).
#
#   bash .ci/slurm/setup.sh          install (apt) and start munge, MariaDB, slurmdbd, slurmctld, slurmd;
#                                    wait until the node is idle. Safe to run again (idempotent).
#   bash .ci/slurm/setup.sh stop     stop the daemons this script started (by their pid files).
#
# Debian's packages (slurm-wlm 22.05 on bookworm), run as root in a container without systemd: the
# daemons are started directly and leave pid files under $RUN. Accounting is on (slurmdbd + MariaDB)
# because the SLURM executor plugin of Snakemake queries job states with `sacct`.
# The node claims 2 CPUs and 16000 MB (SlurmdParameters=config_overrides: SLURM schedules what the
# config says, whatever the hardware), which fits a 24 GiB machine; no cgroups, so memory is a
# scheduling quantity, not a hard limit.
set -euo pipefail

CLUSTER=galdiff
ACCOUNT=galdiff-ci        # the account tests/test_slurm.py submits with
PARTITION=debug
NODE_CPUS=2
NODE_MEMORY_MB=16000
ETC=/etc/slurm
RUN=/run/galdiff-slurm
LOG=/var/log/galdiff-slurm
DB_SOCKET=/run/mysqld/mysqld.sock

log() { echo "[slurm-setup] $*"; }

pid_alive() {  # pid_alive FILE: the process named in pid file FILE is running
    [[ -s "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null
}

stop_daemon() {  # stop_daemon NAME: SIGTERM the pid in $RUN/NAME.pid, wait for it to exit
    local file="$RUN/$1.pid" pid
    if pid_alive "$file"; then
        pid=$(cat "$file")
        log "stopping $1 (pid $pid)"
        kill "$pid"
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
        kill -0 "$pid" 2>/dev/null && { log "$1 did not stop; SIGKILL"; kill -9 "$pid"; }
    fi
    rm -f "$file"
}

if [[ "${1:-start}" == "stop" ]]; then
    for daemon in slurmd slurmctld slurmdbd mariadb munged; do stop_daemon "$daemon"; done
    exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
    echo "[slurm-setup] must run as root (it installs packages and starts system daemons)" >&2
    exit 1
fi

# --- packages -------------------------------------------------------------------------------------
packages=(slurmctld slurmd slurmdbd slurm-client munge mariadb-server)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
mkdir -p "$RUN" "$LOG" "$ETC" /var/spool/slurmctld /var/spool/slurmd /run/munge /run/mysqld
chown slurm:slurm /var/spool/slurmctld "$LOG"
chown munge:munge /run/munge
chown mysql:mysql /run/mysqld

# --- munge (authentication between the daemons and the clients) -----------------------------------
if [[ ! -s /etc/munge/munge.key ]]; then
    mungekey --create --keyfile=/etc/munge/munge.key
    chown munge:munge /etc/munge/munge.key
    chmod 600 /etc/munge/munge.key
fi
if ! pid_alive "$RUN/munged.pid"; then
    log "starting munged"
    runuser -u munge -- /usr/sbin/munged --pid-file=/run/munge/munged.pid --force
    for _ in $(seq 50); do [[ -s /run/munge/munged.pid ]] && break; sleep 0.1; done
    cp /run/munge/munged.pid "$RUN/munged.pid"
fi
munge -n | unmunge >/dev/null

# --- MariaDB (the accounting database behind slurmdbd) ---------------------------------------------
if [[ ! -d /var/lib/mysql/mysql ]]; then
    mariadb-install-db --user=mysql --datadir=/var/lib/mysql >/dev/null
fi
if ! pid_alive "$RUN/mariadb.pid"; then
    log "starting mariadbd"
    nohup runuser -u mysql -- /usr/sbin/mariadbd --datadir=/var/lib/mysql --socket="$DB_SOCKET" \
        --pid-file=/run/mysqld/galdiff-ci.pid --bind-address=127.0.0.1 --skip-networking=0 \
        >"$LOG/mariadb.log" 2>&1 &
    echo $! >"$RUN/mariadb.pid"
    for _ in $(seq 100); do mariadb-admin --socket="$DB_SOCKET" ping >/dev/null 2>&1 && break; sleep 0.2; done
fi
mariadb --socket="$DB_SOCKET" <<'SQL'
CREATE DATABASE IF NOT EXISTS slurm_acct_db;
CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY 'slurmdbpass';
GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost';
FLUSH PRIVILEGES;
SQL

# --- configuration --------------------------------------------------------------------------------
cat >"$ETC/slurmdbd.conf" <<EOF
# written by .ci/slurm/setup.sh
AuthType=auth/munge
DbdHost=localhost
SlurmUser=slurm
PidFile=$RUN/slurmdbd.pid
LogFile=$LOG/slurmdbd.log
StorageType=accounting_storage/mysql
StorageHost=localhost
StorageLoc=slurm_acct_db
StorageUser=slurm
StoragePass=slurmdbpass
EOF
chown slurm:slurm "$ETC/slurmdbd.conf"
chmod 600 "$ETC/slurmdbd.conf"

cat >"$ETC/slurm.conf" <<EOF
# written by .ci/slurm/setup.sh: one node on localhost
ClusterName=$CLUSTER
SlurmctldHost=localhost
SlurmUser=slurm
AuthType=auth/munge
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=$RUN/slurmctld.pid
SlurmdPidFile=$RUN/slurmd.pid
SlurmctldLogFile=$LOG/slurmctld.log
SlurmdLogFile=$LOG/slurmd.log
# no cgroups in a container: track processes by parent pid, no task confinement
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SlurmdParameters=config_overrides
ReturnToService=2
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
# accounting through slurmdbd, so that sacct reports every job (state, requested memory and time)
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
AccountingStorageEnforce=associations
AccountingStoreFlags=job_comment
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=10
JobCompType=jobcomp/none
# finished jobs stay visible to squeue for 5 minutes (the plugin queries sacct anyway)
MinJobAge=300
SlurmctldTimeout=30
SlurmdTimeout=60
InactiveLimit=0
KillWait=10
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$NODE_CPUS RealMemory=$NODE_MEMORY_MB State=UNKNOWN
PartitionName=$PARTITION Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF

# --- daemons --------------------------------------------------------------------------------------
if ! pid_alive "$RUN/slurmdbd.pid"; then
    log "starting slurmdbd"
    /usr/sbin/slurmdbd
    for _ in $(seq 100); do sacctmgr -n list cluster >/dev/null 2>&1 && break; sleep 0.2; done
fi
# the cluster, an account and root's association (sacctmgr exits non-zero when nothing is new)
sacctmgr -i add cluster "$CLUSTER" >/dev/null 2>&1 || true
sacctmgr -i add account "$ACCOUNT" cluster="$CLUSTER" description="galdiff CI" organization=galdiff >/dev/null 2>&1 || true
sacctmgr -i add user root account="$ACCOUNT" cluster="$CLUSTER" defaultaccount="$ACCOUNT" >/dev/null 2>&1 || true
sacctmgr -n -P list association user=root format=account | grep -qx "$ACCOUNT" \
    || { echo "[slurm-setup] root has no association with account $ACCOUNT" >&2; exit 1; }

if pid_alive "$RUN/slurmctld.pid"; then
    scontrol reconfigure
else
    log "starting slurmctld"
    /usr/sbin/slurmctld
fi
if ! pid_alive "$RUN/slurmd.pid"; then
    log "starting slurmd"
    /usr/sbin/slurmd -N localhost
fi

for _ in $(seq 120); do
    state=$(sinfo -h -N -n localhost -o %T 2>/dev/null || true)
    [[ "$state" == idle ]] && break
    sleep 0.5
done
if [[ "$state" != idle ]]; then
    echo "[slurm-setup] node localhost is '${state:-unknown}', not idle; logs in $LOG" >&2
    tail -n 20 "$LOG"/slurmctld.log "$LOG"/slurmd.log >&2 || true
    exit 1
fi
log "cluster $CLUSTER up: node localhost idle ($NODE_CPUS CPUs, $NODE_MEMORY_MB MB), partition $PARTITION, account $ACCOUNT"
