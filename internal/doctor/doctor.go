package doctor

import (
	"context"
	"fmt"
	"net/http"
	"os/user"
	"time"
)

// Options says what to check. Slurm's commands, munge and the controller are always checked; the rest only when
// named.
type Options struct {
	// Backend is how the dispatcher talks to Slurm: "cli" (default) or "rest".
	Backend string
	// RESTURL is slurmrestd's URL (checked when set or when Backend is "rest").
	RESTURL string
	// RESTUser is the user slurmrestd acts for (X-SLURM-USER-NAME); the current user when empty.
	RESTUser string
	// JWT is the token for slurmrestd (SLURM_JWT); when empty one is made with `scontrol token`.
	JWT string
	// Partition is the partition jobs go to; the cluster's default when empty.
	Partition string
	// Server is the control plane's base URL (checked when set).
	Server string
	// Policy is the trust policy file (parsed when set).
	Policy string
	// WorkDir is the shared working directory (checked, and tested from a compute node, when set).
	WorkDir string
	// JobTimeout bounds the test job, from submission to its end (default 60s).
	JobTimeout time.Duration
	// MinFree is the free space wanted where files are staged (default 1 GiB).
	MinFree uint64
	// HTTP is the client for the control plane and slurmrestd; one with a 10 s timeout when nil.
	HTTP *http.Client
}

// Problem is one thing wrong on the headnode.
type Problem struct {
	Check string // the check that found it ("munge", "workdir", …)
	What  string // what is wrong
	Fix   string // what to do
}

// String is the line slipway runner doctor prints: "problem: WHAT; fix: FIX".
func (p Problem) String() string { return "problem: " + p.What + "; fix: " + p.Fix }

// Report is the outcome of Run.
type Report struct {
	OK       []string  // one line per check that passed ("slurm: 22.05.8")
	Problems []Problem // in the order found
}

// Healthy reports whether nothing is wrong.
func (r *Report) Healthy() bool { return len(r.Problems) == 0 }

func (r *Report) ok(check, format string, a ...any) {
	r.OK = append(r.OK, check+": "+fmt.Sprintf(format, a...))
}

func (r *Report) problem(check, what, fix string) {
	r.Problems = append(r.Problems, Problem{Check: check, What: what, Fix: fix})
}

// state is what the checks learn and later checks rely on.
type state struct {
	o          Options
	r          *Report
	user       string
	cli        bool // the Slurm commands run
	controller bool // slurmctld answers
	partition  string
	logKey     string // the control plane's log key, when it answered
	restOK     bool   // slurmrestd accepted jwt
	jwt        string
}

// Run checks the headnode as o says and reports what passed and what is wrong. It returns an error only for a
// mistake in o; everything wrong on the headnode is a Problem.
func Run(ctx context.Context, o Options) (*Report, error) {
	switch o.Backend {
	case "":
		o.Backend = "cli"
	case "cli", "rest":
	default:
		return nil, fmt.Errorf("backend %q: want cli or rest", o.Backend)
	}
	if o.JobTimeout <= 0 {
		o.JobTimeout = 60 * time.Second
	}
	if o.MinFree == 0 {
		o.MinFree = 1 << 30
	}
	if o.HTTP == nil {
		o.HTTP = &http.Client{Timeout: 10 * time.Second}
	}
	u, err := user.Current()
	if err != nil {
		return nil, fmt.Errorf("finding the current user: %w", err)
	}
	s := &state{o: o, r: &Report{}, user: u.Username}
	if o.RESTUser == "" {
		s.o.RESTUser = u.Username
	}
	// In this order: a later check relies on what an earlier one found (munge before the controller, whose
	// failure it often explains; the controller before the partition and the test job).
	for _, check := range []func(context.Context, *state){
		checkCLI,        // sinfo --version: the commands and Slurm's version
		checkMunge,      // munge -n | unmunge
		checkController, // scontrol ping
		checkPartition,  // the partition exists, is up, has a node taking jobs
		checkREST,       // slurmrestd answers and accepts the token
		checkServer,     // the control plane: /readyz, /api/v1/log/key
		checkPolicy,     // the trust policy parses (and names the server's log key)
		checkWorkDir,    // exists, writable, free space, the same directory on a compute node
		checkTempSpace,  // free space in the temporary directory
	} {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		check(ctx, s)
	}
	return s.r, nil
}
