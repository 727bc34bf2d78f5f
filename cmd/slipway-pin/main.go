// Command slipway-pin writes a release's pins into the repository (docs/releasing.md); publish.yml runs it:
//
//	go run ./cmd/slipway-pin image --image REPO@sha256:HEX --slipway-sha256 sha256:HEX
//	go run ./cmd/slipway-pin workflows --commit SHA
//	go run ./cmd/slipway-pin trusted-root --out trusted_root.json
//
// "image" writes actions/image.env and regenerates every action.yml to run that image; "workflows" makes every
// use of slipway/actions in .github/workflows name the commit SHA (the commit that holds the pinned actions);
// "trusted-root" fetches the public Sigstore's trusted root through TUF, for the verify step.
package main

import (
	"fmt"
	"os"

	"github.com/slipway/actions/internal/cli"
)

func main() {
	if err := cli.PinMain(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "slipway-pin: error: %v\n", err)
		os.Exit(2)
	}
}
