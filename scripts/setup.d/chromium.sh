#!/usr/bin/env bash
# scripts/setup.d/chromium.sh is sourced by scripts/setup (it uses its log, die and APT_PACKAGES): the real browser
# the dashboard's tests drive (internal/testutil/chromium, internal/dashboard/browsertest; keep them in step):
#   - Debian's chromium package at /usr/bin/chromium (installed with the other Debian packages, about 19 s the first
#     time), run headless by the tests with --headless=new --no-sandbox (the tests run as root) --disable-gpu;
#   - check_chromium starts it once per installed version and checks that it renders a page (the stamp
#     $SLIPWAY_TOOLS/.chromium-ok holds the version that passed), so that a browser that cannot start here fails
#     setup with its own message, not every browser test with a timeout.
# shellcheck shell=bash

CHROMIUM=/usr/bin/chromium
APT_PACKAGES+=(chromium)

# check_chromium runs chromium headless on a data: URL and checks the DOM it prints.
check_chromium() {
	local stamp="$SLIPWAY_TOOLS/.chromium-ok" want out dir
	[ -x "$CHROMIUM" ] || die "$CHROMIUM is missing after installing the Debian package chromium: run apt-get install chromium and look at its output"
	want=$("$CHROMIUM" --version 2>/dev/null) || die "$CHROMIUM --version failed: reinstall the Debian package chromium"
	if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
		return
	fi
	log "checking that $want renders a page headless"
	dir=$(mktemp -d)
	out=$(timeout 60 "$CHROMIUM" --headless=new --no-sandbox --disable-gpu --user-data-dir="$dir" \
		--dump-dom 'data:text/html,<p id=ok>chromium-ok</p>' 2>/dev/null) || true
	rm -rf "$dir"
	case $out in
	*chromium-ok*) ;;
	*) die "$want did not render a page headless (chromium --headless=new --no-sandbox --dump-dom printed ${out@Q})" ;;
	esac
	mkdir -p "$SLIPWAY_TOOLS"
	printf '%s\n' "$want" >"$stamp"
}
