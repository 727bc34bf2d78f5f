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

// TestStartheapInitializesFirst runs the binary as users get it with
// GODEBUG=inittrace=1,gctrace=1 and checks that internal/startheap
// initializes before the other packages allocate (what the packages before
// it allocate keeps 4 KiB pages), and that no collection runs after it
// until the program ends: its ballast holds the collector off while the
// initializers allocate, and "slipway --version" ends before it lets go.
func TestStartheapInitializesFirst(t *testing.T) {
	cmd := exec.Command(binary(t), "--version")
	cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1,gctrace=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("slipway --version: %v\n%s", err, stderr.Bytes())
	}
	var before, total int64
	pos, n := -1, 0
	var collections []string // after startheap's init
	sc := bufio.NewScanner(&stderr)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) > 0 && f[0] == "gc" && pos >= 0 {
			collections = append(collections, sc.Text())
		}
		// init PKG @T ms, C ms clock, BYTES bytes, N allocs
		if len(f) < 8 || f[0] != "init" {
			continue
		}
		b, err := strconv.ParseInt(f[7], 10, 64)
		if err != nil {
			t.Fatalf("cannot read the bytes of %q: %v", sc.Text(), err)
		}
		if f[1] == "github.com/slipway/actions/internal/startheap" {
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
		t.Fatalf("internal/startheap is not initialized in slipway (%d packages): cmd/slipway must import it", n)
	}
	t.Logf("internal/startheap initializes %dth of %d packages; those before it allocate %d of the initializers' %d bytes", pos+1, n, before, total)
	if before > 1<<20 {
		t.Errorf("the %d packages initialized before internal/startheap allocate %d bytes (of %d): want under 1 MiB; did startheap gain an import?", pos, before, total)
	}
	if len(collections) > 0 {
		t.Errorf("%d collections ran after internal/startheap's init, want none (its ballast holds the collector off):\n%s", len(collections), strings.Join(collections, "\n"))
	}
}

// TestStartheapDisableTHP: GODEBUG=disablethp=1, Go's own switch against
// huge pages on the heap, takes internal/startheap's advice back. The build
// command reads its parent's (slipway's) VmFlags while slipway runs.
func TestStartheapDisableTHP(t *testing.T) {
	if _, err := os.Stat("/sys/kernel/mm/transparent_hugepage/enabled"); err != nil {
		t.Skip("no transparent huge pages here")
	}
	for _, tc := range []struct {
		godebug string
		advised bool
	}{{"", true}, {"disablethp=1", false}, {"madvdontneed=1,disablethp=1", false}} {
		t.Run("GODEBUG="+tc.godebug, func(t *testing.T) {
			dir := t.TempDir()
			cmd := exec.Command(binary(t), "build", "--command", `grep -c " hg" /proc/$PPID/smaps > hg.txt || true; echo x > app`,
				"--artifacts", "app", "--source-date-epoch", "0", "--output-dir", "out")
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "GODEBUG="+tc.godebug)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("slipway build: %v\n%s", err, out)
			}
			b, err := os.ReadFile(dir + "/hg.txt")
			if err != nil {
				t.Fatal(err)
			}
			n, err := strconv.Atoi(strings.TrimSpace(string(b)))
			if err != nil {
				t.Fatalf("hg.txt: %q", b)
			}
			if got := n > 0; got != tc.advised {
				t.Errorf("%d mappings of slipway carry the huge page advice; want advised = %v", n, tc.advised)
			}
		})
	}
}
