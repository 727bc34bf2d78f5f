// Command slipway carries a build from a repository to an HPC cluster with
// proof at every step. See the README and "slipway --help".
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/slipway/actions/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, cli.Env{Args: os.Args[1:], Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv, Getwd: os.Getwd})
	stop()
	os.Exit(code)
}
