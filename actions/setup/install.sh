#!/usr/bin/env bash
# install.sh is the setup action's step: it copies /slipway out of the Slipway action image (the binary every
# Slipway Docker action runs) into $RUNNER_TEMP/slipway/bin and adds that directory to the job's PATH.
#
# Docker actions run in their own container and cannot see the runner's compilers. After this step, a run: step
# can call `slipway build` on the runner, with the toolchains that earlier steps set up; slipway records the
# command it ran there and the toolchains it found, as it does in the container.
#
# The image is the one every action of this commit runs, read from actions/image.env (docs/releasing.md). In a
# release commit it is pinned by digest, and the copied binary must have the SHA-256 recorded there, or the step
# fails and nothing is installed. On main the image is a moving tag and the binary cannot be checked: a warning
# says so.
#
# Environment: SLIPWAY_CONTAINER_CLI (docker, podman, or empty: the first found), GITHUB_ACTION_PATH,
# RUNNER_TEMP, GITHUB_PATH, GITHUB_OUTPUT (set by the runner).
set -euo pipefail

fail() {
	printf '::error title=slipway setup::%s\n' "$*"
	exit 1
}

pin="${GITHUB_ACTION_PATH:?GITHUB_ACTION_PATH is not set}/../image.env"
image='' want=''
seen=''
[ -f "$pin" ] || fail "$pin is missing: use the whole slipway/actions repository at one commit"
while IFS= read -r line || [ -n "$line" ]; do
	case $line in
	'' | '#'*) ;;
	image=*) image=${line#image=} seen="$seen i" ;;
	slipway-sha256=*) want=${line#slipway-sha256=} seen="$seen s" ;;
	*) fail "$pin: unexpected line \"$line\"" ;;
	esac
done <"$pin"
[ "$seen" = " i s" ] || fail "$pin must hold one image= line and then one slipway-sha256= line"
[ -n "$image" ] || fail "$pin names no image"
case $image in
*@sha256:*)
	[[ $want =~ ^sha256:[0-9a-f]{64}$ ]] || fail "$pin pins $image by digest but records no slipway-sha256 (sha256:HEX) to check its binary against"
	;;
*) want= ;;
esac

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
tmp="$dir/slipway.tmp"
# create pulls the image when it is missing (by digest: the registry's content must have that digest); the
# container never starts.
id=$("$cli" create "$image") || fail "could not get the image $image with $cli (see above)"
trap '"$cli" rm "$id" >/dev/null; rm -f "$tmp"' EXIT
"$cli" cp "$id:/slipway" "$tmp"
sum=sha256:$(sha256sum "$tmp" | cut -d' ' -f1)
if [ -n "$want" ]; then
	[ "$sum" = "$want" ] || fail "the /slipway of $image has $sum, but this release recorded $want in actions/image.env: the image is not the one this release published; nothing was installed. Report it to the Slipway maintainers"
	checked=true
else
	echo "::warning title=slipway setup::$image is a moving tag (this is main, not a release), so the binary ($sum) cannot be checked against a release digest; use a release (slipway/actions/actions/setup@v1 or a release commit SHA) for a checked binary"
	checked=false
fi
chmod 0755 "$tmp"
mv -f "$tmp" "$dir/slipway"

version=$("$dir/slipway" --version) || fail "$dir/slipway --version failed: the image's binary does not run on this runner ($(uname -sm))"
image_id=$("$cli" image inspect --format '{{.Id}}' "$image")
echo "$dir" >>"$GITHUB_PATH"
{
	echo "path=$dir/slipway"
	echo "version=$version"
	echo "sha256=$sum"
	echo "checked=$checked"
	echo "image=$image"
	echo "image-id=$image_id"
} >>"$GITHUB_OUTPUT"
echo "slipway setup: $version from $image ($cli, image $image_id) at $dir/slipway, sha256 checked: $checked"
