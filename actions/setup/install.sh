#!/usr/bin/env bash
# install.sh is the setup action's step: it copies /slipway out of the Slipway action image (the binary every
# Slipway Docker action runs) into $RUNNER_TEMP/slipway/bin and adds that directory to the job's PATH.
#
# Docker actions run in their own container and cannot see the runner's compilers. After this step, a run: step
# can call `slipway build` on the runner, with the toolchains that earlier steps set up; slipway records the
# command it ran there and the toolchains it found, as it does in the container.
#
# Environment: SLIPWAY_IMAGE (the image), SLIPWAY_CONTAINER_CLI (docker, podman, or empty: the first found),
# RUNNER_TEMP, GITHUB_PATH, GITHUB_OUTPUT (set by the runner).
set -euo pipefail

fail() {
	printf '::error title=slipway setup::%s\n' "$*"
	exit 1
}

image=${SLIPWAY_IMAGE:?SLIPWAY_IMAGE is not set}
cli=${SLIPWAY_CONTAINER_CLI:-}
case $cli in
'')
	for c in docker podman; do
		if command -v "$c" >/dev/null; then
			cli=$c
			break
		fi
	done
	[ -n "$cli" ] || fail "neither docker nor podman is on PATH: install one (Docker actions need it too), or use the Docker actions"
	;;
docker | podman)
	command -v "$cli" >/dev/null || fail "container-cli $cli is not on PATH; install it or leave container-cli empty"
	;;
*)
	fail "container-cli \"$cli\" is not supported; use docker, podman, or leave it empty"
	;;
esac

dir="${RUNNER_TEMP:?RUNNER_TEMP is not set}/slipway/bin"
mkdir -p "$dir"
# create pulls the image when it is missing; the container never starts.
id=$("$cli" create "$image")
trap '"$cli" rm "$id" >/dev/null' EXIT
"$cli" cp "$id:/slipway" "$dir/slipway.tmp"
chmod 0755 "$dir/slipway.tmp"
mv -f "$dir/slipway.tmp" "$dir/slipway"

version=$("$dir/slipway" --version) || fail "$dir/slipway --version failed: the image's binary does not run on this runner ($(uname -sm))"
sum=$(sha256sum "$dir/slipway" | cut -d' ' -f1)
image_id=$("$cli" image inspect --format '{{.Id}}' "$image")
echo "$dir" >>"$GITHUB_PATH"
{
	echo "path=$dir/slipway"
	echo "version=$version"
	echo "sha256=sha256:$sum"
	echo "image-id=$image_id"
} >>"$GITHUB_OUTPUT"
echo "slipway setup: $version from $image ($cli, image $image_id) at $dir/slipway"
