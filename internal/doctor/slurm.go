package doctor

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// commandTimeout bounds every Slurm or munge command the checks run.
const commandTimeout = 15 * time.Second

// minMajor, minMinor: the oldest Slurm the dispatcher supports (22.05: OpenAPI v0.0.38).
const minMajor, minMinor = 22, 5

// command runs name with args (stdin from in when not nil) and returns its output; an error says what failed,
// with the first line of what the command printed.
func command(ctx context.Context, in []byte, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, commandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = commandEnv(os.Environ())
	if in != nil {
		cmd.Stdin = strings.NewReader(string(in))
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return string(out), fmt.Errorf("%s did not answer within %s", name, commandTimeout)
		}
		if line := firstLine(string(out)); line != "" {
			return string(out), fmt.Errorf("%s: %v: %s", name, err, line)
		}
		return string(out), fmt.Errorf("%s: %v", name, err)
	}
	return string(out), nil
}

// commandEnv is the environment of the commands: without SLURM_JWT, which makes the Slurm commands authenticate
// with that token instead of munge (a stale token in the dispatcher's environment would show slurmctld as DOWN);
// the token is for slurmrestd only.
func commandEnv(env []string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, "SLURM_JWT=") {
			out = append(out, kv)
		}
	}
	return out
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(line)
}

func checkCLI(ctx context.Context, s *state) {
	if _, err := exec.LookPath("sbatch"); err != nil {
		if s.o.Backend == "rest" {
			s.r.ok("slurm", "no Slurm commands here (the rest backend does not need them)")
			return
		}
		s.r.problem("slurm", "the Slurm commands (sbatch, squeue, scontrol, sinfo) are not on PATH",
			"install Slurm's client commands (Debian/Ubuntu: apt install slurm-client; Arch/CachyOS: the slurm-llnl package) and put them on the runner's PATH")
		return
	}
	out, err := command(ctx, nil, "sinfo", "--version")
	if err != nil {
		s.r.problem("slurm", fmt.Sprintf("sinfo --version failed (%v)", err), "check the Slurm installation and /etc/slurm/slurm.conf (SLURM_CONF)")
		return
	}
	fields := strings.Fields(out)
	version := ""
	if len(fields) > 0 {
		version = fields[len(fields)-1]
	}
	major, minor, ok := parseVersion(version)
	if !ok {
		s.r.problem("slurm", fmt.Sprintf("sinfo --version printed %q, not a Slurm version", firstLine(out)), "check that sinfo on PATH is Slurm's")
		return
	}
	s.cli = true
	if major < minMajor || major == minMajor && minor < minMinor {
		s.r.problem("slurm", fmt.Sprintf("Slurm %s is older than %d.%02d", version, minMajor, minMinor),
			fmt.Sprintf("upgrade Slurm to %d.%02d or later", minMajor, minMinor))
		return
	}
	s.r.ok("slurm", "%s", version)
}

// parseVersion reads "22.05.8" (or "22.05") as 22, 5.
func parseVersion(v string) (major, minor int, ok bool) {
	parts := strings.Split(v, ".")
	if len(parts) < 2 {
		return 0, 0, false
	}
	major, err1 := strconv.Atoi(parts[0])
	minor, err2 := strconv.Atoi(parts[1])
	return major, minor, err1 == nil && err2 == nil
}

func checkMunge(ctx context.Context, s *state) {
	if !s.cli {
		return
	}
	if _, err := exec.LookPath("munge"); err != nil {
		// Sites on auth/slurm (23.11+) run without munge: the controller check shows whether auth works.
		s.r.ok("munge", "not installed (fine only with AuthType=auth/slurm)")
		return
	}
	cred, err := command(ctx, nil, "munge", "-n")
	if err == nil {
		_, err = command(ctx, []byte(cred), "unmunge")
	}
	if err != nil {
		s.r.problem("munge", fmt.Sprintf("munge -n | unmunge failed (%v)", err),
			"start munged (systemctl enable --now munge) with the cluster's key in /etc/munge/munge.key (owner munge, mode 0400, the same key on every node)")
		return
	}
	s.r.ok("munge", "a credential made here decodes here")
}

func checkController(ctx context.Context, s *state) {
	if !s.cli {
		return
	}
	out, err := command(ctx, nil, "scontrol", "ping")
	if err != nil || !strings.Contains(out, "is UP") {
		what := firstLine(out)
		if err != nil {
			what = err.Error()
		}
		s.r.problem("slurmctld", fmt.Sprintf("slurmctld does not answer (scontrol ping: %s)", what),
			"start slurmctld on the controller host; check SlurmctldHost in slurm.conf, munge on both hosts and that port 6817 is reachable from here")
		return
	}
	s.controller = true
	s.r.ok("slurmctld", "%s", firstLine(out))
}

// checkPartition checks that the partition (or the default one) exists, is up and has a node that takes jobs.
func checkPartition(ctx context.Context, s *state) {
	if !s.controller {
		return
	}
	out, err := command(ctx, nil, "sinfo", "--noheader", "--format=%P|%a|%t|%D")
	if err != nil {
		s.r.problem("partition", fmt.Sprintf("sinfo failed (%v)", err), "check that slurmctld answers this user")
		return
	}
	want := s.o.Partition
	var avail []string
	found, up, usable := false, false, 0
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Split(line, "|")
		if len(f) != 4 {
			continue
		}
		name, isDefault := strings.CutSuffix(f[0], "*")
		if want == "" && isDefault {
			want = name
		}
		if name != want {
			continue
		}
		found, up = true, f[1] == "up"
		if takesJobs(f[2]) {
			n, _ := strconv.Atoi(f[3])
			usable += n
		}
		avail = append(avail, f[2]+":"+f[3])
	}
	switch {
	case want == "":
		s.r.problem("partition", "no partition named and the cluster has no default partition",
			"give --partition, or mark one partition Default=YES in slurm.conf")
	case !found:
		s.r.problem("partition", fmt.Sprintf("partition %q does not exist", want), "name a partition sinfo lists")
	case !up:
		s.r.problem("partition", fmt.Sprintf("partition %q is not up", want), fmt.Sprintf("scontrol update PartitionName=%s State=UP", want))
	case usable == 0:
		s.r.problem("partition", fmt.Sprintf("partition %q has no node taking jobs (node states %s)", want, strings.Join(avail, ", ")),
			"bring a node back (scontrol show node; scontrol update NodeName=N State=RESUME) or fix what drained it")
	default:
		s.partition = want
		s.r.ok("partition", "%s: %d node(s) taking jobs", want, usable)
	}
}

func takesJobs(state string) bool {
	switch strings.TrimRight(state, "*~#!%$@^-") {
	case "idle", "mix", "alloc", "comp":
		return true
	}
	return false
}
