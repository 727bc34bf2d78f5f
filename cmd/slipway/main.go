// Command slipway carries a build from a repository to an HPC cluster with
// proof at every step. See the README and "slipway --help".
package main

import (
	"context"
	"os"

	"github.com/slipway/actions/internal/atomicfile"
	"github.com/slipway/actions/internal/cli"
	"github.com/slipway/actions/internal/interrupt"
	"github.com/slipway/actions/internal/startheap"
)

func main() {
	// startheap initialized first of all packages: the heap the others
	// allocated got huge pages, and no collection ran until now.
	startheap.Done()
	ctx, stop := interrupt.Notify(context.Background(), interrupt.Config{Stderr: os.Stderr, Cleanup: atomicfile.RemoveTemps})
	code := cli.Main(ctx, cli.Env{Args: os.Args[1:], Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv, Getwd: os.Getwd})
	stop()
	os.Exit(code)
}
