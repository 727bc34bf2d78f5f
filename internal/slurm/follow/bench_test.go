package follow

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slipway/actions/internal/slurm"
)

// The benchmarks below run on the real test cluster (scripts/bench section
// slurm runs them; -benchtime Nx is the number of jobs). They submit with
// sbatch directly, --nice so that other users' jobs go first, and cancel
// every job they submitted.

// benchSbatch is sbatch with the benchmarks' common options.
func benchSbatch(dir, name string, extra ...string) *exec.Cmd {
	args := append([]string{"--parsable", "-J", "follow-bench-" + name, "--cpus-per-task=1", "--mem=16M", "--time=5",
		"--nice=100000", "-D", dir, "-o", "/dev/null", "-e", "/dev/null"}, extra...)
	return exec.Command("sbatch", args...)
}

// wrapStatus is the end of a benchmark job: the status file as the job
// wrapper writes it.
const wrapStatus = `mkdir -p .slipway; printf '{"version":1,"jobId":"%s","exitCode":0,"verified":true}' "$SLURM_JOB_ID" >.slipway/t.$SLURM_JOB_ID; mv .slipway/t.$SLURM_JOB_ID .slipway/job-$SLURM_JOB_ID.status`

func cancelAll(ids []uint32) {
	if len(ids) == 0 {
		return
	}
	args := make([]string, len(ids))
	for i, id := range ids {
		args[i] = strconv.FormatUint(uint64(id), 10)
	}
	exec.Command("scancel", args...).Run()
}

func percentile(v []float64, p float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := slices.Clone(v)
	slices.Sort(s)
	i := int(math.Ceil(p/100*float64(len(s)))) - 1
	return s[max(0, min(i, len(s)-1))]
}

func readNanos(path string) (time.Time, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return time.Time{}, err
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	return time.Unix(0, n), err
}

// BenchmarkNotice measures, for b.N jobs of 1-4 s submitted at once with
// sbatch --wait, how long after each job's script ended sbatch --wait
// returned and how long after it our Follower noticed the end (the same job,
// the same run), and how long after the submit the Follower saw it RUNNING.
func BenchmarkNotice(b *testing.B) {
	c, be := requireCluster(b)
	dir := c.Shared
	running := sync.Map{}
	f := New(be, Options{OnChange: func(j slurm.Job) {
		if j.State == slurm.Running {
			running.LoadOrStore(j.ID, time.Now())
		}
	}})
	type sample struct {
		id                           uint32
		submit, started, ended       time.Time
		sbatchDone, followDone       time.Time
		followErr, sbatchErr, filErr error
	}
	samples := make([]sample, b.N)
	var mu sync.Mutex
	var ids []uint32
	defer func() { cancelAll(ids) }()
	b.ResetTimer()
	var wg sync.WaitGroup
	for i := range b.N {
		wg.Go(func() {
			s := &samples[i]
			d := 1 + i%4
			script := fmt.Sprintf(`date +%%s%%N >start-$SLURM_JOB_ID; sleep %d; %s; date +%%s%%N >end-$SLURM_JOB_ID`, d, wrapStatus)
			cmd := benchSbatch(dir, "notice", "--wait", "--wrap", script)
			out, err := cmd.StdoutPipe()
			if err == nil {
				err = cmd.Start()
			}
			if err != nil {
				s.sbatchErr = err
				return
			}
			line, err := bufio.NewReader(out).ReadString('\n')
			s.submit = time.Now()
			id, perr := strconv.ParseUint(strings.TrimSpace(strings.Split(line, ";")[0]), 10, 32)
			if err != nil || perr != nil {
				s.sbatchErr = fmt.Errorf("sbatch printed %q: %v %v", line, err, perr)
				cmd.Wait()
				return
			}
			s.id = uint32(id)
			mu.Lock()
			ids = append(ids, s.id)
			mu.Unlock()
			done := make(chan struct{})
			go func() {
				defer close(done)
				_, s.followErr = f.Follow(context.Background(), s.id, LogFiles{WorkDir: dir}, nil)
				s.followDone = time.Now()
			}()
			s.sbatchErr = cmd.Wait()
			s.sbatchDone = time.Now()
			<-done
			s.started, s.filErr = readNanos(filepath.Join(dir, fmt.Sprintf("start-%d", s.id)))
			if s.filErr == nil {
				s.ended, s.filErr = readNanos(filepath.Join(dir, fmt.Sprintf("end-%d", s.id)))
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	var ours, theirs, toRun, toStart []float64
	for _, s := range samples {
		if err := cmpErr(s.sbatchErr, s.followErr, s.filErr); err != nil {
			b.Fatalf("job %d: %v", s.id, err)
		}
		ours = append(ours, ms(s.followDone.Sub(s.ended)))
		theirs = append(theirs, ms(s.sbatchDone.Sub(s.ended)))
		toStart = append(toStart, ms(s.started.Sub(s.submit)))
		if t, ok := running.Load(s.id); ok {
			toRun = append(toRun, ms(t.(time.Time).Sub(s.submit)))
		}
	}
	b.ReportMetric(percentile(ours, 50), "follow-notice-p50-ms")
	b.ReportMetric(percentile(ours, 99), "follow-notice-p99-ms")
	b.ReportMetric(percentile(theirs, 50), "sbatch-wait-notice-p50-ms")
	b.ReportMetric(percentile(theirs, 99), "sbatch-wait-notice-p99-ms")
	b.ReportMetric(percentile(theirs, 50)/percentile(ours, 50), "x-p50")
	b.ReportMetric(percentile(theirs, 99)/percentile(ours, 99), "x-p99")
	b.ReportMetric(percentile(toRun, 50), "submit-to-running-seen-p50-ms")
	b.ReportMetric(percentile(toRun, 99), "submit-to-running-seen-p99-ms")
	b.ReportMetric(percentile(toStart, 50), "submit-to-script-start-p50-ms")
	b.ReportMetric(percentile(toStart, 99), "submit-to-script-start-p99-ms")
}

func cmpErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// counting counts the Backend.Jobs calls made through it.
type counting struct {
	slurm.Backend
	n atomic.Int64
}

func (c *counting) Jobs(ctx context.Context, ids []uint32) (map[uint32]slurm.Job, error) {
	c.n.Add(1)
	return c.Backend.Jobs(ctx, ids)
}

// queryRPCs are the slurmctld RPCs a job query makes (squeue, scontrol,
// slurmrestd): what sdiag counts of them.
var queryRPCs = regexp.MustCompile(`^\s*(REQUEST_JOB_INFO|REQUEST_JOB_INFO_SINGLE|REQUEST_JOB_USER_INFO|REQUEST_PARTITION_INFO|REQUEST_FED_INFO)\s+\(\s*\d+\)\s+count:(\d+)`)

func sdiagQueries(tb testing.TB) int64 {
	out, err := exec.Command("sdiag").Output()
	if err != nil {
		tb.Fatalf("sdiag: %v", err)
	}
	var n int64
	for _, line := range strings.Split(string(out), "\n") {
		if m := queryRPCs.FindStringSubmatch(line); m != nil {
			v, _ := strconv.ParseInt(m[2], 10, 64)
			n += v
		}
	}
	return n
}

func vmHWM() float64 {
	b, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			kib, _ := strconv.ParseFloat(f[1], 64)
			return kib / 1024
		}
	}
	return 0
}

// submitMany submits n true-like jobs, calling follow for each as soon as it
// is submitted; it returns their ids.
func submitMany(b *testing.B, dir, name string, n int, follow func(id uint32)) []uint32 {
	ids := make([]uint32, 0, n)
	for range n {
		out, err := benchSbatch(dir, name, "--wrap", "true; "+wrapStatus).Output()
		if err != nil {
			cancelAll(ids)
			b.Fatalf("sbatch: %v", err)
		}
		id, err := strconv.ParseUint(strings.TrimSpace(strings.Split(string(out), ";")[0]), 10, 32)
		if err != nil {
			cancelAll(ids)
			b.Fatal(err)
		}
		ids = append(ids, uint32(id))
		follow(uint32(id))
	}
	return ids
}

// BenchmarkFollowMany dispatches b.N tiny jobs at once and follows them all
// with one Follower (the CLI backend: one squeue --json per tick), then as
// many with a naive loop: one goroutine per job running squeue -j ID on the
// Follower's schedule (every MinInterval, growing by half to MaxInterval,
// back to MinInterval when the state changes), at most 4 squeue at a time
// so as not to swamp the shared machine (which lowers its count). It reports
// both loops' queries, the slurmctld query RPCs of both (sdiag deltas: other
// users' queries in the same seconds count too), their wall times, and the
// process's peak RSS after following with the Follower.
func BenchmarkFollowMany(b *testing.B) {
	c, be := requireCluster(b)
	n := b.N
	o := Options{}
	o.defaults()
	b.ResetTimer()

	// Ours.
	ours := &counting{Backend: be}
	f := New(ours, o)
	var wg sync.WaitGroup
	var failed atomic.Int64
	rpc0 := sdiagQueries(b)
	t0 := time.Now()
	ids := submitMany(b, c.Shared, "many", n, func(id uint32) {
		wg.Go(func() {
			j, err := f.Follow(context.Background(), id, LogFiles{WorkDir: c.Shared}, nil)
			if err != nil || j.State != slurm.Completed {
				failed.Add(1)
			}
		})
	})
	wg.Wait()
	oursWall := time.Since(t0)
	oursRPC := sdiagQueries(b) - rpc0
	rss := vmHWM()
	cancelAll(ids)
	if failed.Load() > 0 {
		b.Fatalf("%d of %d jobs did not end COMPLETED", failed.Load(), n)
	}

	// Naive: one squeue per job per poll, as a shell loop around squeue -j would.
	var naive atomic.Int64
	sem := make(chan struct{}, 4)
	rpc0 = sdiagQueries(b)
	t0 = time.Now()
	ids = submitMany(b, c.Shared, "naive", n, func(id uint32) {
		wg.Go(func() {
			interval, last := o.MinInterval, ""
			for {
				sem <- struct{}{}
				out, err := exec.Command("squeue", "-h", "-t", "all", "-j", strconv.FormatUint(uint64(id), 10), "-o", "%T").Output()
				<-sem
				naive.Add(1)
				st := strings.TrimSpace(string(out))
				if err == nil && (st == "" || slurm.ParseState(st).Final()) {
					return
				}
				if st != last {
					interval, last = o.MinInterval, st
				} else if interval = interval * 3 / 2; interval > o.MaxInterval {
					interval = o.MaxInterval
				}
				time.Sleep(interval)
			}
		})
	})
	wg.Wait()
	naiveWall := time.Since(t0)
	naiveRPC := sdiagQueries(b) - rpc0
	cancelAll(ids)
	b.StopTimer()

	b.ReportMetric(float64(ours.n.Load()), "follow-queries")
	b.ReportMetric(float64(naive.Load()), "naive-queries")
	b.ReportMetric(float64(oursRPC), "follow-query-rpcs")
	b.ReportMetric(float64(naiveRPC), "naive-query-rpcs")
	b.ReportMetric(float64(naiveRPC)/math.Max(1, float64(oursRPC)), "x-rpcs")
	b.ReportMetric(oursWall.Seconds(), "follow-wall-s")
	b.ReportMetric(naiveWall.Seconds(), "naive-wall-s")
	b.ReportMetric(rss, "VmHWM-MiB")
}
