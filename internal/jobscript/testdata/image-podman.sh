#!/bin/sh
# Written by slipway (internal/jobscript). Every value below is a single-quoted literal; the only
# expansions are of this script's own variables, SLURM_JOB_ID and TMPDIR. The first command checks the
# staged artifact again on this node (slipway exec-verified: digest, signatures) and only then runs the
# command, without a shell. The last lines write the job's status file atomically.
set -u
umask 077
: "${SLURM_JOB_ID:?this script runs under Slurm only}"
case $SLURM_JOB_ID in '' | *[!0-9]*) echo "slipway: SLURM_JOB_ID is not a job id" >&2; exit 70 ;; esac
slipway_status='/shared/work/.slipway/job-'"$SLURM_JOB_ID"'.status'
slipway_tmp=$(mktemp -d "${TMPDIR:-/tmp}/slipway-job.XXXXXXXXXX") || exit 70
slipway_dir='/shared/work/job-'"$SLURM_JOB_ID"''
'/opt/slipway/bin/slipway' exec-verified \
	--digest 'sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef' \
	--file '/shared/work/.slipway/release-r-1/dist/image/blobs/sha256/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef' \
	--policy '/shared/policy.yaml' \
	--bundles '/shared/work/app.tar.gz.sigstore.json' \
	--bundles '/shared/work/app.tar.gz.asc' \
	--status "$slipway_status" \
	--image-layout '/shared/work/.slipway/release-r-1/dist/image' \
	--bundle "$slipway_tmp/bundle" \
	--job-dir "$slipway_dir" \
	--container-runtime 'podman' \
	--container-network 'host' \
	-- '/app' '--flag'
slipway_rc=$?
rm -rf -- "$slipway_tmp"
if [ ! -e "$slipway_status" ]; then
	printf '{"version":1,"jobId":"%s","exitCode":%d,"verified":true}\n' "$SLURM_JOB_ID" "$slipway_rc" >"$slipway_status.tmp" &&
		mv -f -- "$slipway_status.tmp" "$slipway_status"
fi
exit "$slipway_rc"
