// Package unitfile renders the hardened systemd units of an HPC headnode install (`slipway runner systemd`):
// slipway serve (the control plane) and the GitHub Actions runner that runs slipway dispatch, each under its own
// unprivileged system user, with no capabilities, a read-only system, private /tmp and devices, and write access
// only to the directories the service needs.
//
// It renders text only: it must never install, enable or start a unit, never create users or directories, and
// never accept a value that systemd would read as a specifier, a second word or a second line.
package unitfile
