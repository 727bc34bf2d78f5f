#!/bin/sh
# probe.sh runs inside the action image (e2e TestImage, through action.yml here): it builds the sample with the image's busybox and
# reports what it found as step outputs.
set -eu
sh build.sh dist
tmp=$(mktemp)
rm "$tmp"
{
	echo "uid=$(id -u):$(id -g)"
	echo "shell=$(readlink /bin/sh)"
	echo "tmp=$tmp"
	echo "hello=$(./dist/hello e2e)"
	echo "version=$(/slipway --version)"
} >>"$GITHUB_OUTPUT"
