package cli

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/slurm"
)

// Submit validates spec and submits it with sbatch --parsable: the script on
// stdin, every option one argv word, the environment exactly spec.Env.
func (b *Backend) Submit(ctx context.Context, spec slurm.JobSpec) (uint32, error) {
	if err := spec.Validate(); err != nil {
		return 0, err
	}
	args, err := b.submitArgs(spec)
	if err != nil {
		return 0, err
	}
	out, err := b.run(ctx, "sbatch", args, b.jobEnv(spec), spec.Script)
	if err != nil {
		return 0, err
	}
	return parseParsable(string(out))
}

// submitArgs renders spec as sbatch options, each "--name=value" in one word.
func (b *Backend) submitArgs(spec slurm.JobSpec) ([]string, error) {
	minutes, err := spec.TimeLimitMinutes()
	if err != nil {
		return nil, err
	}
	args := []string{"--parsable", "--export=ALL"}
	add := func(name, v string) {
		if v != "" {
			args = append(args, "--"+name+"="+v)
		}
	}
	num := func(name string, n int) {
		if n > 0 {
			add(name, strconv.Itoa(n))
		}
	}
	cluster := spec.Cluster
	if cluster == "" {
		cluster = b.o.Cluster
	}
	add("job-name", spec.Name)
	add("comment", spec.Comment)
	add("partition", spec.Partition)
	add("account", spec.Account)
	add("qos", spec.QOS)
	add("clusters", cluster)
	if minutes > 0 {
		add("time", strconv.FormatUint(uint64(minutes), 10))
	}
	num("nodes", spec.Nodes)
	num("ntasks", spec.NTasks)
	num("cpus-per-task", spec.CPUsPerTask)
	add("mem", spec.Mem)
	add("gpus", spec.GPUs)
	add("gres", spec.Gres)
	add("constraint", spec.Constraint)
	add("chdir", spec.WorkDir)
	add("output", spec.Stdout)
	add("error", spec.Stderr)
	add("container", spec.Container)
	return args, nil
}

// jobEnv is sbatch's process environment: spec.Env sorted, plus SLURM_CONF.
func (b *Backend) jobEnv(spec slurm.JobSpec) []string {
	env := b.baseEnv()
	for k, v := range spec.Env {
		env = append(env, k+"="+v)
	}
	slices.Sort(env)
	return env
}

// parseParsable reads sbatch --parsable's answer: "ID" or "ID;CLUSTER".
func parseParsable(out string) (uint32, error) {
	line := strings.TrimSpace(out)
	if i := strings.LastIndexByte(line, '\n'); i >= 0 { // anything sbatch printed before
		line = strings.TrimSpace(line[i+1:])
	}
	id, _, _ := strings.Cut(line, ";")
	n, err := strconv.ParseUint(id, 10, 32)
	if err != nil || n == 0 {
		return 0, exitcode.Infraf("slurm: sbatch --parsable answered %q, not a job id: run sbatch by hand to see why", clip(out))
	}
	return uint32(n), nil
}

func clip(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}
