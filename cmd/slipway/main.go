// Command slipway carries a build from a repository to an HPC cluster with
// proof at every step. See the README and "slipway --help".
package main

import (
	"context"
	"os"
	"slices"
	"strings"

	"github.com/slipway/actions/internal/atomicfile"
	"github.com/slipway/actions/internal/cli"
	"github.com/slipway/actions/internal/interrupt"
	"github.com/slipway/actions/internal/startheap"
)

func main() {
	// startheap initialized first of all packages: the heap the others
	// allocated got huge pages, and no collection ran until now.
	startheap.Done()
	if slices.Contains(strings.Split(os.Getenv("GODEBUG"), ","), "disablethp=1") {
		startheap.Undo() // Go's own switch against huge pages on the heap
	}
	ctx, stop := interrupt.Notify(context.Background(), interrupt.Config{Stderr: os.Stderr, Cleanup: atomicfile.RemoveTemps})
	code := cli.Main(ctx, cli.Env{Args: os.Args[1:], Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv, Getwd: os.Getwd})
	stop()
	os.Exit(code)
}
