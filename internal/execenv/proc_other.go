//go:build !unix

package execenv

import "os/exec"

// ownProcessGroup leaves cmd as it is: process groups are a Unix feature.
func ownProcessGroup(*exec.Cmd) {}

// killGroup kills the command's process (no process groups here).
func killGroup(cmd *exec.Cmd) {
	if cmd.Process != nil {
		_ = cmd.Process.Kill()
	}
}

// signalOf reports no signal: they are a Unix feature.
func signalOf(*exec.ExitError) (string, bool) { return "", false }
