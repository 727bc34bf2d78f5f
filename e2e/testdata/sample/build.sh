#!/bin/sh
# build.sh builds the sample with a POSIX shell and busybox's tools only (it runs inside the Slipway action
# image), reproducibly: the same sources give byte-identical files.
#
#   sh build.sh [OUT]    writes OUT/hello (the "binary") and OUT/hello-src.tar.gz (the sources); OUT=dist
set -eu
out=${1:-dist}
epoch=${SOURCE_DATE_EPOCH:-1700000000}
version=$(cat VERSION)

rm -rf "$out"
mkdir -p "$out/.stage/hello-$version"

# The program: one self-contained shell script assembled from the sources.
{
	printf '#!/bin/sh\nHELLO_VERSION=%s\n' "$version"
	cat src/greet.sh src/main.sh
} >"$out/hello"
chmod 0755 "$out/hello"

# The source tarball: fixed file order and modification times, gzip without name or time stamp.
for f in VERSION build.sh src/greet.sh src/main.sh; do
	mkdir -p "$out/.stage/hello-$version/$(dirname "$f")"
	cp "$f" "$out/.stage/hello-$version/$f"
done
find "$out/.stage" -exec touch -d "@$epoch" {} +
(cd "$out/.stage" && tar -cf - "hello-$version" "hello-$version/VERSION" "hello-$version/build.sh" \
	"hello-$version/src" "hello-$version/src/greet.sh" "hello-$version/src/main.sh" --no-recursion) |
	gzip -c >"$out/hello-src.tar.gz"
rm -rf "$out/.stage"
echo "built $out/hello and $out/hello-src.tar.gz ($version)"
