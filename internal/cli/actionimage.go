package cli

import "os"

// actionImagePath is where the action image (the Dockerfile) puts slipway,
// as its entrypoint.
const actionImagePath = "/slipway"

// inActionImage reports whether this process runs in slipway's action
// image: it is /slipway and it is the container's first process. GitHub's
// runner and act start a Docker action's container with the image's
// entrypoint as PID 1 (no init process), and actions/setup copies the
// binary to $RUNNER_TEMP/slipway/bin, never to /slipway; so both together
// mean the Docker action, whatever the environment variables say (a
// variable the image set would also be set by anyone who copies it).
func inActionImage() bool {
	return isActionImage(os.Executable, os.Readlink)
}

func isActionImage(executable func() (string, error), readlink func(string) (string, error)) bool {
	self, err := executable()
	if err != nil || self != actionImagePath {
		return false
	}
	pid1, err := readlink("/proc/1/exe")
	return err == nil && pid1 == actionImagePath
}
