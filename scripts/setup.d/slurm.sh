#!/usr/bin/env bash
# scripts/setup.d/slurm.sh is sourced by scripts/setup (it uses its log, die and detach): the machine's one
# single-node Slurm 22.05 cluster for the tests (internal/testutil/slurm reads the same facts; keep them in step):
#   - munged (Debian's key /etc/munge/munge.key, socket /run/munge/munge.socket.2, pid /run/munge/munged.pid)
#   - slurmctld and slurmd (SlurmUser=slurm; node = this machine's short hostname, CPUs=2, RealMemory=8192,
#     partition debug Default=YES; no accounting, MinJobAge=300 keeps finished jobs visible for 5 minutes)
#   - slurmrestd on http://127.0.0.1:6820 (openapi/v0.0.38, JWT: tokens from `scontrol token`), run as the system
#     user slurmrestd with SLURM_JWT=daemon
#   - /etc/slurm/oci.conf: rootless runc for `sbatch --container BUNDLE`
#   - /etc/slurm/cgroup.conf: task/cgroup and proctrack/cgroup on the cgroup v1 hierarchy, ConstrainRAMSpace: a job
#     over its --mem is killed by the kernel inside its memory cgroup and ends OUT_OF_MEMORY, as on a real site
#   - /var/lib/slipway-slurm/shared (mode 1777): where tests put job working directories
# Configuration in /etc/slurm (slurm.conf, cgroup.conf, oci.conf, the JWT key), state in /var/lib/slipway-slurm, pid
# files in /run/slipway-slurm, logs in /var/log/slipway-slurm. A changed slurm.conf is applied with `scontrol
# reconfigure`, except a change of the task or proctrack plugin, which Slurm applies only at start: then slurmctld
# and slurmd are restarted once (jobs running then are lost: run setup's first start before the tests).
# shellcheck shell=bash

SLURM_ETC=/etc/slurm
SLURM_CONF=$SLURM_ETC/slurm.conf
SLURM_OCI_CONF=$SLURM_ETC/oci.conf
SLURM_CGROUP_CONF=$SLURM_ETC/cgroup.conf
# The plugins slurm.conf names that `scontrol reconfigure` cannot change (slurm_restart_needed compares them).
SLURM_TASK_PLUGIN=task/cgroup
SLURM_PROCTRACK=proctrack/cgroup
SLURM_JWT_KEY=$SLURM_ETC/jwt_hs256.key
SLURM_DIR=/var/lib/slipway-slurm
SLURM_SHARED=$SLURM_DIR/shared
SLURM_RUN=/run/slipway-slurm
SLURM_LOGS=/var/log/slipway-slurm
SLURM_REST_ADDR=127.0.0.1:6820
SLURM_REST_USER=slurmrestd
SLURM_PARTITION=debug
MUNGE_PIDFILE=/run/munge/munged.pid
SLURMCTLD_PIDFILE=$SLURM_RUN/slurmctld.pid
SLURMD_PIDFILE=$SLURM_RUN/slurmd.pid
SLURMRESTD_PIDFILE=$SLURM_RUN/slurmrestd.pid

# slurm_conf prints the wanted slurm.conf for node $1.
slurm_conf() {
	local node=$1
	cat <<EOF
# Written by slipway scripts/setup (scripts/setup.d/slurm.sh): the tests' single-node cluster. Edits are replaced.
ClusterName=slipway
SlurmctldHost=$node
SlurmUser=slurm
AuthType=auth/munge
CredType=cred/munge
AuthAltTypes=auth/jwt
AuthAltParameters=jwt_key=$SLURM_JWT_KEY
StateSaveLocation=$SLURM_DIR/ctld
SlurmdSpoolDir=$SLURM_DIR/spool
SlurmctldPidFile=$SLURMCTLD_PIDFILE
SlurmdPidFile=$SLURMD_PIDFILE
SlurmctldLogFile=$SLURM_LOGS/slurmctld.log
SlurmdLogFile=$SLURM_LOGS/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
# No mail, no MPI plugin (Debian's default pmix does not load here and only logs errors).
MailProg=/bin/true
MpiDefault=none
# Memory cgroups (cgroup.conf): every job and step runs in its own memory cgroup limited to its --mem; a job over
# it is killed by the kernel's OOM killer in that cgroup, and slurmstepd reports OUT_OF_MEMORY (Reason OutOfMemory,
# ExitCode 0:125: Slurm's SIG_OOM marker). Processes are tracked by the freezer cgroup. Memory use is read from the
# cgroups every second. (Without cgroups, JobAcctGatherParams=OverMemoryKill only samples RSS and ends an
# over-limit job FAILED with signal 9; see docs/hpc.md.)
ProctrackType=$SLURM_PROCTRACK
TaskPlugin=$SLURM_TASK_PLUGIN
JobAcctGatherType=jobacct_gather/cgroup
JobAcctGatherFrequency=task=1
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
# Memory is a consumable resource, so that --mem is a limit; a job that asks none gets 1 GiB per CPU.
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=1024
ReturnToService=2
# Finished jobs stay in squeue/scontrol/REST for 5 minutes (no slurmdbd: nothing remembers them after that).
MinJobAge=300
# A cancelled job gets SIGKILL 5 s after SIGTERM.
KillWait=5
NodeName=$node CPUs=2 RealMemory=8192 State=UNKNOWN
PartitionName=$SLURM_PARTITION Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
}

# slurm_cgroup_conf prints the wanted cgroup.conf: Slurm's cgroup v1 plugin on the hierarchies this machine mounts
# under /sys/fs/cgroup (no automount, no systemd), RAM constrained to --mem (no swap here); cores and devices are
# not constrained (two CPUs shared by every test).
slurm_cgroup_conf() {
	cat <<'EOF'
# Written by slipway scripts/setup (scripts/setup.d/slurm.sh): memory cgroups for the tests' cluster. Edits are
# replaced.
CgroupPlugin=cgroup/v1
CgroupMountpoint=/sys/fs/cgroup
CgroupAutomount=no
ConstrainRAMSpace=yes
ConstrainSwapSpace=no
ConstrainCores=no
ConstrainDevices=no
EOF
}

# slurm_oci_conf prints the wanted oci.conf: rootless runc, its state per user under /tmp (%U is not supported by
# 22.05), the bundle given by sbatch --container.
slurm_oci_conf() {
	cat <<'EOF'
# Written by slipway scripts/setup (scripts/setup.d/slurm.sh): sbatch --container BUNDLE runs the bundle with
# rootless runc. Edits are replaced.
RunTimeQuery="runc --rootless=true --root=/tmp/runc-%u state %n.%u.%j.%s.%t"
RunTimeKill="runc --rootless=true --root=/tmp/runc-%u kill -a %n.%u.%j.%s.%t"
RunTimeDelete="runc --rootless=true --root=/tmp/runc-%u delete --force %n.%u.%j.%s.%t"
RunTimeRun="runc --rootless=true --root=/tmp/runc-%u run %n.%u.%j.%s.%t -b %b"
EOF
}

# slurm_write_file writes $2 into file $1 (mode $3) when it differs, and reports through its status whether it
# changed (0 changed, 1 as it was).
slurm_write_file() {
	local file=$1 want=$2 mode=$3
	if [ -f "$file" ] && [ "$(cat "$file")" = "$want" ]; then
		return 1
	fi
	log "writing $file"
	printf '%s\n' "$want" >"$file.tmp.$$"
	chmod "$mode" "$file.tmp.$$"
	mv "$file.tmp.$$" "$file"
}

pid_alive() {
	local pid
	pid=$(cat "$1" 2>/dev/null) && [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

munge_answers() {
	munge -n 2>/dev/null | unmunge >/dev/null 2>&1
}

slurmctld_answers() {
	scontrol ping 2>/dev/null | grep -q 'is UP'
}

slurmrestd_answers() {
	local code
	code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://$SLURM_REST_ADDR/openapi/v3" 2>/dev/null) || true
	[ -n "$code" ] && [ "$code" != 000 ]
}

# slurm_wait waits up to $1 tenths of a second for the check $2 (a function) to pass, then dies naming $3 and the
# log $4.
slurm_wait() {
	local tenths=$1 check=$2 what=$3 logfile=$4 _
	for _ in $(seq "$tenths"); do
		"$check" && return
		sleep 0.1
	done
	tail -n 20 "$logfile" >&2 || true
	die "$what did not come up within $((tenths / 10))s; see $logfile"
}

start_munge() {
	munge_answers && return
	pid_alive "$MUNGE_PIDFILE" && die "munged (pid $(cat "$MUNGE_PIDFILE")) runs but does not answer; see $SLURM_LOGS/munged.log"
	[ -s /etc/munge/munge.key ] || die "/etc/munge/munge.key is missing: reinstall the munge package or create it with mungekey"
	mkdir -p /run/munge /var/lib/munge /var/log/munge "$SLURM_LOGS"
	chown munge:munge /run/munge /var/lib/munge /var/log/munge
	log "starting munged (log: $SLURM_LOGS/munged.log)"
	detach "$SLURM_LOGS/munged.log" setpriv --reuid=munge --regid=munge --init-groups /usr/sbin/munged --foreground >/dev/null
	slurm_wait 100 munge_answers munged "$SLURM_LOGS/munged.log"
}

# slurm_configure writes the configuration files, the JWT key (once) and the directories; it reports through its
# status whether slurm.conf or oci.conf changed (0 changed).
slurm_configure() {
	local node changed=1
	node=$(hostname -s)
	mkdir -p "$SLURM_ETC" "$SLURM_DIR/ctld" "$SLURM_DIR/spool" "$SLURM_SHARED" "$SLURM_RUN" "$SLURM_LOGS"
	chown slurm:slurm "$SLURM_DIR/ctld" "$SLURM_LOGS"
	chmod 1777 "$SLURM_SHARED"
	if [ ! -s "$SLURM_JWT_KEY" ]; then
		log "generating the JWT key $SLURM_JWT_KEY (owner slurm, mode 0600)"
		(umask 077 && head -c 32 /dev/urandom >"$SLURM_JWT_KEY.tmp.$$")
		chown slurm:slurm "$SLURM_JWT_KEY.tmp.$$"
		mv "$SLURM_JWT_KEY.tmp.$$" "$SLURM_JWT_KEY"
	fi
	chown slurm:slurm "$SLURM_JWT_KEY"
	chmod 0600 "$SLURM_JWT_KEY"
	slurm_write_file "$SLURM_CONF" "$(slurm_conf "$node")" 0644 && changed=0
	slurm_write_file "$SLURM_OCI_CONF" "$(slurm_oci_conf)" 0644 && changed=0
	slurm_write_file "$SLURM_CGROUP_CONF" "$(slurm_cgroup_conf)" 0644 && changed=0
	if ! getent passwd "$SLURM_REST_USER" >/dev/null; then
		log "creating the system user $SLURM_REST_USER (slurmrestd refuses root and SlurmUser)"
		useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$SLURM_REST_USER"
	fi
	return "$changed"
}

node_idle() {
	sinfo -h -N -p "$SLURM_PARTITION" -o '%t' 2>/dev/null | grep -Eq '^(idle|mix|alloc)'
}

# start_slurm starts munged, slurmctld, slurmd and slurmrestd where they do not answer, applies a changed
# configuration to running daemons with scontrol reconfigure, and waits until the node takes jobs.
start_slurm() {
	start_munge
	local changed=
	slurm_configure && changed=1
	if slurmctld_answers && slurm_restart_needed; then
		slurm_restart_daemons
	fi
	if slurmctld_answers; then
		if [ -n "$changed" ]; then
			log "applying the changed Slurm configuration (scontrol reconfigure)"
			scontrol reconfigure || die "scontrol reconfigure failed; see $SLURM_LOGS/slurmctld.log"
		fi
	else
		pid_alive "$SLURMCTLD_PIDFILE" && die "slurmctld (pid $(cat "$SLURMCTLD_PIDFILE")) runs but does not answer; see $SLURM_LOGS/slurmctld.log"
		log "starting slurmctld (log: $SLURM_LOGS/slurmctld.log)"
		detach "$SLURM_LOGS/slurmctld.stderr" slurmctld -D >/dev/null
		slurm_wait 300 slurmctld_answers slurmctld "$SLURM_LOGS/slurmctld.log"
	fi
	if ! pid_alive "$SLURMD_PIDFILE"; then
		log "starting slurmd (log: $SLURM_LOGS/slurmd.log)"
		detach "$SLURM_LOGS/slurmd.stderr" slurmd -D >/dev/null
	fi
	slurm_wait 300 node_idle "slurmd (node $(hostname -s) idle in partition $SLURM_PARTITION)" "$SLURM_LOGS/slurmd.log"
	if ! slurmrestd_answers; then
		pid_alive "$SLURMRESTD_PIDFILE" && die "slurmrestd (pid $(cat "$SLURMRESTD_PIDFILE")) runs but does not answer on $SLURM_REST_ADDR; see $SLURM_LOGS/slurmrestd.log"
		log "starting slurmrestd on http://$SLURM_REST_ADDR (JWT; log: $SLURM_LOGS/slurmrestd.log)"
		SLURM_JWT=daemon detach "$SLURM_LOGS/slurmrestd.log" setpriv --reuid="$SLURM_REST_USER" --regid="$SLURM_REST_USER" \
			--init-groups slurmrestd -a rest_auth/jwt -s openapi/v0.0.38 "$SLURM_REST_ADDR" >"$SLURMRESTD_PIDFILE"
		slurm_wait 100 slurmrestd_answers slurmrestd "$SLURM_LOGS/slurmrestd.log"
	fi
}

# slurm_restart_needed reports whether the running slurmctld uses other task or proctrack plugins than slurm.conf
# names (a change `scontrol reconfigure` does not apply).
slurm_restart_needed() {
	local config
	config=$(scontrol show config 2>/dev/null) || return 1
	! grep -Eq "^TaskPlugin +=.*$SLURM_TASK_PLUGIN" <<<"$config" || ! grep -Eq "^ProctrackType +=.*$SLURM_PROCTRACK" <<<"$config"
}

# slurm_restart_daemons stops slurmd and slurmctld by their pid files (slurmrestd and munged stay), so that
# start_slurm starts them again with the new plugins.
slurm_restart_daemons() {
	local name pidfile pid _
	log "restarting slurmctld and slurmd: the task or proctrack plugin changed (scontrol reconfigure does not apply it)"
	for name in slurmd:"$SLURMD_PIDFILE" slurmctld:"$SLURMCTLD_PIDFILE"; do
		pidfile=${name#*:}
		name=${name%%:*}
		pid=$(cat "$pidfile" 2>/dev/null) || continue
		kill -0 "$pid" 2>/dev/null || continue
		log "stopping $name (pid $pid)"
		kill "$pid" || true
		for _ in $(seq 100); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -0 "$pid" 2>/dev/null && die "$name (pid $pid) did not stop within 10s; kill -9 $pid"
	done
	return 0
}

# slurm_pidfiles prints name:pidfile for each Slurm daemon, in the order to stop them.
slurm_pidfiles() {
	printf '%s\n' "slurmrestd:$SLURMRESTD_PIDFILE" "slurmd:$SLURMD_PIDFILE" "slurmctld:$SLURMCTLD_PIDFILE" "munged:$MUNGE_PIDFILE"
}
