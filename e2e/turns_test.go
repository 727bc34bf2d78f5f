package e2e

import (
	"cmp"
	"flag"
	"fmt"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"
)

// The act tests run in parallel and take turns, longest first: with two turns, the package's wall time is close
// to half their sum instead of the longest test plus half the rest, which is what go test's own order (whichever
// paused test wakes first) gives when the longest test happens to start last.

// longestFirst lists the act tests from the longest to the shortest, as measured (e2e/README.md). A test not in the
// list takes its turn after these, by name.
var longestFirst = []string{
	"TestPublish", "TestHPCRun", "TestPublishMain", "TestRelease", "TestReleaseKeyless", "TestFoundation",
	"TestGitHubFaces", "TestPullAction", "TestDockerfileAgrees", "TestSetup", "TestWorkspaceOwner", "TestSetupChecksBinary",
	"TestImage", "TestOneImage",
}

// TestMain gives the turns what go test -parallel says (GOMAXPROCS when not given), and go test itself no limit:
// a test waiting for its turn must not hold one of go test's places while the test whose turn it is has none.
// When fuzzing, -parallel is the number of fuzzing processes and is left alone.
func TestMain(m *testing.M) {
	flag.Parse()
	if f := flag.Lookup("test.parallel"); f != nil && flag.Lookup("test.fuzz").Value.String() == "" {
		n, err := strconv.Atoi(f.Value.String())
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "e2e: -parallel %q: want a number of at least 1\n", f.Value.String())
			os.Exit(2)
		}
		actTurns.limit = n
		if err := f.Value.Set("1000"); err != nil {
			panic(err) // a constant the flag accepts
		}
	}
	os.Exit(m.Run())
}

// takeTurn marks t parallel and returns when it is t's turn; the turn ends with t. Call it first thing in an act
// test, before t.Parallel's pause: every test that will run registers before any of them takes a turn, so the
// order does not depend on which goroutine wakes first.
// go test's time for t counts the wait; the log (-v) says how long t waited and ran.
func takeTurn(t *testing.T) {
	actTurns.register(t.Name())
	t.Parallel()
	paused := time.Now()
	actTurns.wait(t.Name())
	start := time.Now()
	t.Cleanup(func() {
		actTurns.done()
		t.Logf("turn: waited %s, ran %s", start.Sub(paused).Round(100*time.Millisecond), time.Since(start).Round(100*time.Millisecond))
	})
}

var actTurns = newTurns(1)

// turns hands out limit turns at once to registered tests, longest first.
type turns struct {
	mu      sync.Mutex
	changed *sync.Cond
	limit   int
	running int
	waiting []string // registered, turn not yet taken
}

func newTurns(limit int) *turns {
	tr := &turns{limit: limit}
	tr.changed = sync.NewCond(&tr.mu)
	return tr
}

func (tr *turns) register(name string) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.waiting = append(tr.waiting, name)
	slices.SortFunc(tr.waiting, func(a, b string) int { return cmp.Or(cmp.Compare(rank(a), rank(b)), cmp.Compare(a, b)) })
}

func (tr *turns) wait(name string) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	for tr.running >= tr.limit || tr.waiting[0] != name {
		tr.changed.Wait()
	}
	tr.waiting = tr.waiting[1:]
	tr.running++
	tr.changed.Broadcast() // the next in line may have a free turn too
}

func (tr *turns) done() {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.running--
	tr.changed.Broadcast()
}

// rank is name's place in longestFirst; after all of them when it is not there.
func rank(name string) int {
	if i := slices.Index(longestFirst, name); i >= 0 {
		return i
	}
	return len(longestFirst)
}
