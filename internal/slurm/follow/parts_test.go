package follow

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/slurm"
)

func TestExpand(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, name, want, err string }{
		{in: "/w/slurm-%j.out", want: "/w/slurm-42.out"},
		{in: "/w/%x-%j.err", name: "slipway-r1", want: "/w/slipway-r1-42.err"},
		{in: "/w/%A/%4j%%", want: "/w/42/0042%"},
		{in: "/w/plain", want: "/w/plain"},
		{in: "/w/%x.out", err: "%x needs the job name"},
		{in: "/w/%N.out", err: "pattern %N is not expanded"},
		{in: "/w/%u", err: "pattern %u"},
		{in: "/w/a\\%j", err: "backslash"},
		{in: "/w/%", err: "at the end"},
		{in: "/w/%12j", err: "width"},
	} {
		got, err := Expand(tc.in, 42, tc.name)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("Expand(%q) = %q, %v; want error containing %q", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("Expand(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestTailer(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := filepath.Join(dir, "log")
	var out bytes.Buffer
	tl := newTailer(p, &out)
	now := time.Now()
	look := func() {
		now = now.Add(2 * tailSlow)
		if err := tl.poll(now); err != nil {
			t.Fatal(err)
		}
	}
	look() // missing: waited for
	if out.Len() != 0 {
		t.Fatal(out.String())
	}
	f, _ := os.Create(p)
	defer f.Close()
	f.WriteString("a\nb")
	look()
	if out.String() != "a\n" {
		t.Fatalf("%q: the partial line must be held", out.String())
	}
	long := strings.Repeat("x", maxPartial+10)
	f.WriteString(long)
	look()
	if out.Len() < maxPartial {
		t.Fatalf("a partial line over %d bytes must be written as it is; out has %d", maxPartial, out.Len())
	}
	f.WriteString("\n")
	look()
	if out.String() != "a\nb"+long+"\n" {
		t.Fatal("lines split or lost")
	}
	f.Truncate(0)
	f.Seek(0, 0)
	f.WriteString("new\nend")
	look()
	if err := tl.finish(); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(out.String(), "\nnew\nend\n") {
		t.Errorf("after truncation: %q", out.String()[len(out.String())-20:])
	}
	if err := tl.finish(); err != nil { // twice is harmless
		t.Fatal(err)
	}
}

func TestTailerRefusesFIFO(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "fifo")
	if err := mkfifo(p); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	tl := newTailer(p, &bytes.Buffer{})
	if err := tl.poll(time.Now()); err == nil || !strings.Contains(err.Error(), "FIFO") {
		t.Fatalf("err = %v, want a refusal naming the FIFO (without blocking)", err)
	}
}

func TestParseStatus(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, err string }{
		{in: `{"version":1,"jobId":"8","exitCode":0,"verified":true}`},
		{in: `{"version":2,"jobId":"8","exitCode":0,"verified":true}`, err: "version 2"},
		{in: `{"version":1,"jobId":"9","exitCode":0}`, err: `jobId "9"`},
		{in: `{"version":1,"jobId":"8","exitCode":300}`, err: "outside 0-255"},
		{in: `not json`, err: "one JSON object"},
	} {
		_, err := ParseStatus("s", []byte(tc.in), 8)
		if (tc.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("ParseStatus(%s) = %v, want %q", tc.in, err, tc.err)
		}
	}
}

func FuzzParseStatus(f *testing.F) {
	f.Add([]byte(`{"version":1,"jobId":"8","exitCode":0,"verified":true}`))
	f.Add([]byte(`{"version":1,"jobId":"8","exitCode":65,"verified":false,"check":"digest","detail":"x"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseStatus("s", b, 8)
		if err == nil && (s.JobID != "8" || s.ExitCode < 0 || s.ExitCode > 255) {
			t.Fatalf("accepted %+v", s)
		}
	})
}

func FuzzExpand(f *testing.F) {
	f.Add("/w/%x-%j.%%out", "name")
	f.Fuzz(func(t *testing.T, p, name string) {
		got, err := Expand(p, 12345, name)
		if err == nil && !strings.Contains(p, "%") && got != p {
			t.Fatalf("Expand(%q) = %q: a path without patterns changed", p, got)
		}
		if err == nil && !strings.Contains(name, "%") && strings.Count(got, "%") > strings.Count(p, "%")/2 {
			t.Fatalf("Expand(%q) = %q: more percent signs than %%%% escapes", p, got)
		}
	})
}

func TestResult(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 12, 5, 6, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		job     slurm.Job
		exit    int
		ok      bool
		errPart string
	}{
		{job: slurm.Job{ID: 1, State: slurm.Completed}, ok: true},
		{job: slurm.Job{ID: 2, State: slurm.Failed, ExitCode: 3}, exit: 3, errPart: "failed with exit code 3"},
		{job: slurm.Job{ID: 3, State: slurm.Timeout, Signal: 15}, exit: 143, errPart: "time limit"},
		{job: slurm.Job{ID: 4, State: slurm.OutOfMemory, ExitCode: -1, Signal: slurm.SigOOM, Reason: "OutOfMemory"}, exit: 253, errPart: "ran out of memory (OutOfMemory); ask for more --mem"},
		{job: slurm.Job{ID: 5, State: slurm.Cancelled, Signal: 15}, exit: 143, errPart: "was cancelled"},
		{job: slurm.Job{ID: 6, State: slurm.NodeFail, ExitCode: -1}, exit: -1, errPart: "node failed"},
		{job: slurm.Job{ID: 7, State: slurm.Preempted, ExitCode: -1}, exit: -1, errPart: "preempted"},
		{job: slurm.Job{ID: 8, State: slurm.Failed, ExitCode: 65, Reason: "exec-verified refused: check digest"}, exit: 65, errPart: "check digest"},
	} {
		tc.job.Start, tc.job.End = start, start.Add(63*time.Second)
		r := ResultOf(tc.job)
		if r.ExitCode != tc.exit || r.Success() != tc.ok || r.Elapsed != 63*time.Second {
			t.Errorf("%+v: %+v", tc.job, r)
		}
		err := r.Err()
		if tc.ok != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.errPart)) {
			t.Errorf("%s: err %v, want %q", tc.job.State, err, tc.errPart)
		}
		var ec *exitcode.Error
		if err != nil && (!errors.As(err, &ec) || ec.Code != exitcode.Failed) {
			t.Errorf("%s: not marked as a failure", tc.job.State)
		}
		o := r.Outputs()
		if o[0][0] != "job-id" || o[1][1] != string(tc.job.State) || o[3][1] != "63" {
			t.Errorf("outputs %v", o)
		}
	}
}
