package main

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// TestHugeheapInitializesFirst runs the binary as users get it with
// GODEBUG=inittrace=1 and checks that internal/hugeheap initializes before
// the other packages allocate: what the packages before it allocate is
// what keeps 4 KiB pages.
func TestHugeheapInitializesFirst(t *testing.T) {
	cmd := exec.Command(binary(t), "--version")
	cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("slipway --version: %v\n%s", err, stderr.Bytes())
	}
	// init PKG @T ms, C ms clock, BYTES bytes, N allocs
	var before, total int64
	pos, n := -1, 0
	sc := bufio.NewScanner(&stderr)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 8 || f[0] != "init" {
			continue
		}
		b, err := strconv.ParseInt(f[7], 10, 64)
		if err != nil {
			t.Fatalf("cannot read the bytes of %q: %v", sc.Text(), err)
		}
		if f[1] == "github.com/slipway/actions/internal/hugeheap" {
			pos = n
		} else {
			total += b
			if pos < 0 {
				before += b
			}
		}
		n++
	}
	if pos < 0 {
		t.Fatalf("internal/hugeheap is not initialized in slipway (%d packages): cmd/slipway must import it", n)
	}
	t.Logf("internal/hugeheap initializes %dth of %d packages; those before it allocate %d of the initializers' %d bytes", pos+1, n, before, total)
	if before > 1<<20 {
		t.Errorf("the %d packages initialized before internal/hugeheap allocate %d bytes (of %d): want under 1 MiB; did hugeheap gain an import?", pos, before, total)
	}
}
