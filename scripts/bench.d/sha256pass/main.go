// Command sha256pass is scripts/bench's reference for "one SHA-256 pass": it
// reads one file once, front to back, through a 1 MiB buffer into
// crypto/sha256, and prints the digest as sha256sum does. It is a measuring
// tool, not part of slipway, and must never do more than that one pass.
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: sha256pass FILE")
		os.Exit(2)
	}
	sum, err := pass(os.Args[1])
	if err != nil {
		fmt.Fprintf(os.Stderr, "sha256pass: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("%s  %s\n", hex.EncodeToString(sum), os.Args[1])
}

// pass hashes path with an explicit read loop: io.Copy would hand the file to
// os.File.WriteTo, which copies through its own 32 KiB buffer.
func pass(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h := sha256.New()
	buf := make([]byte, 1<<20)
	for {
		n, err := f.Read(buf)
		h.Write(buf[:n])
		if err == io.EOF {
			return h.Sum(nil), nil
		}
		if err != nil {
			return nil, fmt.Errorf("reading %q: %w", path, err)
		}
	}
}
