// Package version reports which slipway this is. The release build sets
// Version with -ldflags "-X github.com/slipway/actions/internal/version.Version=v1.2.3";
// otherwise the module's build information is used.
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Version is the release version, set at link time.
var Version = ""

// String returns "v1.2.3 (commit abc123, go1.26.8 linux/amd64)".
func String() string {
	v, commit := Version, ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				commit = s.Value[:12]
			}
		}
	}
	if v == "" {
		v = "devel"
	}
	if commit != "" {
		return fmt.Sprintf("%s (commit %s, %s %s/%s)", v, commit, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	}
	return fmt.Sprintf("%s (%s %s/%s)", v, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
