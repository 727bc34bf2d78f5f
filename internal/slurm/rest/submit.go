package rest

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/slurm"
)

// job38 is the job of a v0.0.38 submission (v0.0.38_job_properties).
type job38 struct {
	Name                    string            `json:"name,omitempty"`
	Comment                 string            `json:"comment,omitempty"`
	Partition               string            `json:"partition,omitempty"`
	Account                 string            `json:"account,omitempty"`
	QOS                     string            `json:"qos,omitempty"`
	TimeLimit               uint32            `json:"time_limit,omitempty"`
	Nodes                   []int             `json:"nodes,omitempty"`
	Tasks                   int               `json:"tasks,omitempty"`
	CPUsPerTask             int               `json:"cpus_per_task,omitempty"`
	MemoryPerNode           *uint64           `json:"memory_per_node,omitempty"`
	GPUs                    string            `json:"gpus,omitempty"`
	Gres                    string            `json:"gres,omitempty"`
	Constraints             string            `json:"constraints,omitempty"`
	CurrentWorkingDirectory string            `json:"current_working_directory"`
	StandardOutput          string            `json:"standard_output,omitempty"`
	StandardError           string            `json:"standard_error,omitempty"`
	Environment             map[string]string `json:"environment"`
	Container               string            `json:"container,omitempty"`
}

// noVal is v0.0.40+'s {set, infinite, number}.
type noVal struct {
	Set    bool   `json:"set"`
	Number uint64 `json:"number"`
}

// job40 is the job of a v0.0.40–42 submission (job_desc_msg).
type job40 struct {
	Script                  string   `json:"script"`
	Name                    string   `json:"name,omitempty"`
	Comment                 string   `json:"comment,omitempty"`
	Partition               string   `json:"partition,omitempty"`
	Account                 string   `json:"account,omitempty"`
	QOS                     string   `json:"qos,omitempty"`
	Clusters                string   `json:"clusters,omitempty"`
	TimeLimit               *noVal   `json:"time_limit,omitempty"`
	MinimumNodes            int      `json:"minimum_nodes,omitempty"`
	MaximumNodes            int      `json:"maximum_nodes,omitempty"`
	Tasks                   int      `json:"tasks,omitempty"`
	CPUsPerTask             int      `json:"cpus_per_task,omitempty"`
	MemoryPerNode           *noVal   `json:"memory_per_node,omitempty"`
	TRESPerJob              string   `json:"tres_per_job,omitempty"`
	TRESPerNode             string   `json:"tres_per_node,omitempty"`
	Constraints             string   `json:"constraints,omitempty"`
	CurrentWorkingDirectory string   `json:"current_working_directory"`
	StandardOutput          string   `json:"standard_output,omitempty"`
	StandardError           string   `json:"standard_error,omitempty"`
	Environment             []string `json:"environment"`
	Container               string   `json:"container,omitempty"`
}

// emptyEnv is sent when JobSpec.Env is empty: slurmctld refuses a batch job
// without an environment ("environment must be set", 2127), and slurmstepd
// sets ENVIRONMENT=BATCH in every batch job itself.
var emptyEnv = map[string]string{"ENVIRONMENT": "BATCH"}

// submitBody renders spec as the submission body of version.
func submitBody(version string, spec slurm.JobSpec) (any, error) {
	minutes, err := spec.TimeLimitMinutes()
	if err != nil {
		return nil, err
	}
	mem, err := slurm.MemMiB(spec.Mem)
	if err != nil {
		return nil, err
	}
	env := spec.Env
	if len(env) == 0 {
		env = emptyEnv
	}
	if version == "v0.0.38" {
		if spec.Cluster != "" {
			return nil, exitcode.BadInputf("slurm: cluster %q: slurmrestd v0.0.38 submits to its own cluster only: leave the cluster empty, or use the cli backend", spec.Cluster)
		}
		j := job38{
			Name: spec.Name, Comment: spec.Comment, Partition: spec.Partition, Account: spec.Account, QOS: spec.QOS,
			TimeLimit: minutes, Tasks: spec.NTasks, CPUsPerTask: spec.CPUsPerTask, GPUs: spec.GPUs, Gres: spec.Gres,
			Constraints: spec.Constraint, CurrentWorkingDirectory: spec.WorkDir, StandardOutput: spec.Stdout,
			StandardError: spec.Stderr, Environment: env, Container: spec.Container,
		}
		if spec.Nodes > 0 {
			j.Nodes = []int{spec.Nodes, spec.Nodes}
		}
		if spec.Mem != "" {
			j.MemoryPerNode = &mem
		}
		return struct {
			Script string `json:"script"`
			Job    job38  `json:"job"`
		}{string(spec.Script), j}, nil
	}
	j := job40{
		Script: string(spec.Script), Name: spec.Name, Comment: spec.Comment, Partition: spec.Partition,
		Account: spec.Account, QOS: spec.QOS, Clusters: spec.Cluster, MinimumNodes: spec.Nodes, MaximumNodes: spec.Nodes,
		Tasks: spec.NTasks, CPUsPerTask: spec.CPUsPerTask, Constraints: spec.Constraint,
		CurrentWorkingDirectory: spec.WorkDir, StandardOutput: spec.Stdout, StandardError: spec.Stderr,
		Container: spec.Container, TRESPerJob: gpusTRES(spec.GPUs), TRESPerNode: gresTRES(spec.Gres),
	}
	if minutes > 0 {
		j.TimeLimit = &noVal{Set: true, Number: uint64(minutes)}
	}
	if spec.Mem != "" {
		j.MemoryPerNode = &noVal{Set: true, Number: mem}
	}
	for k, v := range env {
		j.Environment = append(j.Environment, k+"="+v)
	}
	slices.Sort(j.Environment)
	return struct {
		Job job40 `json:"job"`
	}{j}, nil
}

// gpusTRES renders --gpus as sbatch does for tres_per_job: "a100:2" → "gres/gpu:a100:2".
func gpusTRES(gpus string) string {
	if gpus == "" {
		return ""
	}
	return "gres/gpu:" + gpus
}

// gresTRES renders --gres as sbatch does for tres_per_node: "gpu:a100:2,shard:1" → "gres/gpu:a100:2,gres/shard:1".
func gresTRES(gres string) string {
	if gres == "" {
		return ""
	}
	items := strings.Split(gres, ",")
	for i, it := range items {
		items[i] = "gres/" + it
	}
	return strings.Join(items, ",")
}

// Submit validates spec and POSTs it to …/job/submit.
func (b *Backend) Submit(ctx context.Context, spec slurm.JobSpec) (uint32, error) {
	if err := spec.Validate(); err != nil {
		return 0, err
	}
	v, err := b.api(ctx)
	if err != nil {
		return 0, err
	}
	body, err := submitBody(v, spec)
	if err != nil {
		return 0, err
	}
	path := "/slurm/" + v + "/job/submit"
	a, err := b.do(ctx, "POST", path, body, 1<<20)
	if err != nil {
		return 0, err
	}
	if err := b.check("POST "+path, a); err != nil {
		var e *apiError
		if errors.As(err, &e) && e.hint == "" {
			e.hint = "Slurm refused the job: check the partition, account, QOS and limits it asks for (sinfo, scontrol show partition)"
			return 0, exitcode.Failure(e)
		}
		return 0, err
	}
	return parseSubmit(a.body)
}

// parseSubmit reads job_id from a submission answer.
func parseSubmit(body []byte) (uint32, error) {
	var r struct {
		JobID json.RawMessage `json:"job_id"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return 0, exitcode.Infraf("slurm: slurmrestd's answer to the submission is not JSON: %v", err)
	}
	id, err := strconv.ParseUint(string(r.JobID), 10, 32)
	if err != nil || id == 0 {
		return 0, exitcode.Infraf("slurm: slurmrestd accepted the submission but answered job_id %q, not a job id: check slurmrestd's log", clip(string(r.JobID)))
	}
	return uint32(id), nil
}
