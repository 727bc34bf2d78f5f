// Command blobupload is scripts/bench's upload contender: run in the
// workspace, it uploads the files a build manifest records to a slipway serve with slipway upload's
// own client (internal/upload.SendBlobs: HEAD, then the OCI chunked upload
// in 64 MiB chunks) and admits nothing, so that the transfer alone is
// timed. The token comes from SLIPWAY_TOKEN. It is a measuring tool, not
// part of slipway.
//
//	blobupload SERVER-URL MANIFEST
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/slipway/actions/internal/upload"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: SLIPWAY_TOKEN=… blobupload SERVER-URL MANIFEST")
		os.Exit(2)
	}
	tok := os.Getenv("SLIPWAY_TOKEN")
	dir, err := os.Getwd() // the workspace, as for slipway upload
	if err != nil {
		fmt.Fprintf(os.Stderr, "blobupload: %v\n", err)
		os.Exit(2)
	}
	blobs, err := upload.SendBlobs(context.Background(), upload.Options{
		Server: os.Args[1], Manifest: os.Args[2], Dir: dir,
		Token: func(context.Context) (string, error) { return tok, nil },
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "blobupload: %v\n", err)
		os.Exit(1)
	}
	for _, b := range blobs {
		fmt.Printf("%s %s %d %s\n", b.Transfer, b.Digest, b.Size, b.Name)
	}
}
