//go:build !unix

package build

import "os/exec"

// ownProcessGroup leaves cmd as it is: process groups are a Unix feature.
func ownProcessGroup(*exec.Cmd) {}

// signalOf reports no signal: they are a Unix feature.
func signalOf(*exec.ExitError) (string, bool) { return "", false }
