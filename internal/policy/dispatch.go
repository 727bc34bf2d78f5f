package policy

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/slipway/actions/internal/lazyregexp"
)

// DispatchRule is a rule of the policy's "dispatch" section: which Slurm
// resources the releases of some source repositories may use. A release
// whose repository no rule names may not be dispatched.
type DispatchRule struct {
	// Repositories are the source repositories (normalized, see
	// ParseRepository) whose releases the rule covers.
	Repositories []string
	// Partitions are the partitions a job may run in; at least one.
	Partitions []string
	// Accounts and QOS, when set, are the accounts and QOS a job must
	// name one of; empty allows any (and none).
	Accounts []string
	QOS      []string
	// MaxTime, MaxNodes and MaxGPUs bound a job's time limit, node count
	// and GPUs in all; negative (MaxNodes, MaxGPUs) or zero (MaxTime) means
	// no limit.
	MaxTime  time.Duration
	MaxNodes int
	MaxGPUs  int
}

// DispatchRequest is a job as the dispatch limits see it: the fields of
// slurm.JobSpec they bound, and the release's source repository.
type DispatchRequest struct {
	Partition, Account, QOS string
	// TimeLimit is rounded up to whole minutes, as Slurm does; 0 means the
	// partition's default, which a rule with maxTime cannot bound.
	TimeLimit time.Duration
	// Nodes and NTasks: 0 is unset. Unset nodes count as one node unless
	// more than one task is asked for (Slurm may then spread them).
	Nodes, NTasks int
	// GPUs is sbatch --gpus ("[type:]count"); Gres is --gres
	// ("gpu[:type]:count,…", per node).
	GPUs, Gres string
}

// DispatchDecision is whether a job may be submitted, and why.
type DispatchDecision struct {
	Allowed bool
	// Limit names what refused it: "repository", "partition", "account",
	// "qos", "maxTime", "maxNodes", "maxGPUs"; "" when allowed.
	Limit string
	// Reason says why, naming the rule (dispatch[N]) and what to change.
	Reason string
}

// CheckDispatch decides whether a job for a release of repository may be
// submitted under the policy's dispatch rules: a rule for the repository
// must allow every field. It is what slipway serve checks before it
// submits anything, and slipway dispatch when its policy has a dispatch
// section. A policy without dispatch rules allows nothing.
func (p *Policy) CheckDispatch(repository string, req DispatchRequest) DispatchDecision {
	repo, err := ParseRepository(bareRepository(repository))
	if err != nil {
		return DispatchDecision{Limit: "repository", Reason: fmt.Sprintf("the release's source repository %q %v", repository, err)}
	}
	if len(p.Dispatch) == 0 {
		return DispatchDecision{Limit: "repository", Reason: "the policy has no dispatch rules, so no release may be dispatched; add a \"dispatch\" entry for its repository (docs/policy.md)"}
	}
	var refusals []DispatchDecision
	for i, rule := range p.Dispatch {
		if !slices.Contains(rule.Repositories, repo) {
			continue
		}
		d := rule.check(fmt.Sprintf("dispatch[%d]", i), req)
		if d.Allowed {
			return d
		}
		refusals = append(refusals, d)
	}
	if len(refusals) == 0 {
		return DispatchDecision{Limit: "repository", Reason: fmt.Sprintf("no dispatch rule names the repository %q; add it to a rule's repositories (docs/policy.md)", repo)}
	}
	// The rule whose partition the job names says best what to change.
	best := 0
	for i, r := range refusals {
		if r.Limit != "partition" {
			best = i
			break
		}
	}
	d := refusals[best]
	for i, other := range refusals {
		if i != best {
			d.Reason += "; " + other.Reason
		}
	}
	return d
}

// check decides req under one rule, named name in reasons.
func (r DispatchRule) check(name string, req DispatchRequest) DispatchDecision {
	refuse := func(limit, format string, a ...any) DispatchDecision {
		return DispatchDecision{Limit: limit, Reason: name + ": " + fmt.Sprintf(format, a...)}
	}
	switch {
	case req.Partition == "":
		return refuse("partition", "the job names no partition, and the default one is not known here; name one of %q", r.Partitions)
	case !slices.Contains(r.Partitions, req.Partition):
		return refuse("partition", "partition %q is not allowed; use one of %q", req.Partition, r.Partitions)
	case len(r.Accounts) > 0 && !slices.Contains(r.Accounts, req.Account):
		return refuse("account", "account %q is not allowed; use one of %q", req.Account, r.Accounts)
	case len(r.QOS) > 0 && !slices.Contains(r.QOS, req.QOS):
		return refuse("qos", "QOS %q is not allowed; use one of %q", req.QOS, r.QOS)
	}
	if r.MaxTime > 0 {
		t := req.TimeLimit.Truncate(time.Minute)
		if t < req.TimeLimit {
			t += time.Minute
		}
		switch {
		case t <= 0:
			return refuse("maxTime", "the job has no time limit (the partition's default could exceed maxTime %s); give a time limit of at most %s", r.MaxTime, r.MaxTime)
		case t > r.MaxTime:
			return refuse("maxTime", "time limit %s is over maxTime %s; ask for at most %s", t, r.MaxTime, r.MaxTime)
		}
	}
	if r.MaxNodes >= 0 {
		nodes := req.Nodes
		switch {
		case nodes == 0 && req.NTasks > 1:
			return refuse("maxNodes", "the job asks for %d tasks without a node count (Slurm may spread them over more than maxNodes %d); give nodes", req.NTasks, r.MaxNodes)
		case nodes == 0:
			nodes = 1
		}
		if nodes > r.MaxNodes {
			return refuse("maxNodes", "%d nodes is over maxNodes %d; ask for at most %d", nodes, r.MaxNodes, r.MaxNodes)
		}
	}
	if r.MaxGPUs >= 0 {
		n, err := GPUCount(req.GPUs, req.Gres, req.Nodes)
		if err != nil {
			return refuse("maxGPUs", "%v", err)
		}
		if n > r.MaxGPUs {
			return refuse("maxGPUs", "the job asks for %d GPUs in all, over maxGPUs %d; ask for at most %d", n, r.MaxGPUs, r.MaxGPUs)
		}
	}
	return DispatchDecision{Allowed: true, Reason: fmt.Sprintf("%s allows partition %q, account %q, QOS %q and the job's limits", name, req.Partition, req.Account, req.QOS)}
}

// gpuType is a GPU type's or gres name's charset.
var gpuType = lazyregexp.New(`^[A-Za-z0-9_.-]{1,64}$`)

// GPUCount is the number of GPUs a job asks for in all: --gpus
// ("[type:]count[,…]") for the whole job, plus --gres GPUs
// ("gpu[:type][:count][,…]", count 1 when absent) on each of nodes (0
// counts as one). Other gres kinds count nothing. A value it cannot read is
// an error: a limit cannot bound what it cannot count.
func GPUCount(gpus, gres string, nodes int) (int, error) {
	total := 0
	if gpus != "" {
		for _, term := range strings.Split(gpus, ",") {
			parts := strings.Split(term, ":")
			if len(parts) > 2 || (len(parts) == 2 && !gpuType.MatchString(parts[0])) {
				return 0, fmt.Errorf("gpus %q is not \"[type:]count\"; write it like \"2\" or \"a100:2\"", gpus)
			}
			n, err := count(parts[len(parts)-1])
			if err != nil {
				return 0, fmt.Errorf("gpus %q: %v; write it like \"2\" or \"a100:2\"", gpus, err)
			}
			total += n
		}
	}
	if gres != "" {
		perNode := 0
		for _, term := range strings.Split(gres, ",") {
			parts := strings.Split(term, ":")
			name, _, _ := strings.Cut(parts[0], "/") // gres/gpu
			if parts[0] == "gres/gpu" {
				name = "gpu"
			}
			if name != "gpu" {
				if !gpuType.MatchString(parts[0]) {
					return 0, fmt.Errorf("gres %q is not \"name[:type][:count]\"; write it like \"gpu:2\"", gres)
				}
				continue
			}
			switch len(parts) {
			case 1:
				perNode++
			case 2, 3:
				if len(parts) == 3 && !gpuType.MatchString(parts[1]) {
					return 0, fmt.Errorf("gres %q: GPU type %q is not a name; write it like \"gpu:a100:2\"", gres, parts[1])
				}
				n, err := count(parts[len(parts)-1])
				if err != nil && len(parts) == 2 && gpuType.MatchString(parts[1]) {
					n, err = 1, nil // gpu:TYPE
				}
				if err != nil {
					return 0, fmt.Errorf("gres %q: %v; write it like \"gpu:2\" or \"gpu:a100:2\"", gres, err)
				}
				perNode += n
			default:
				return 0, fmt.Errorf("gres %q is not \"gpu[:type][:count]\"; write it like \"gpu:2\"", gres)
			}
		}
		if nodes > maxCount || perNode > maxCount {
			return 0, fmt.Errorf("gres %q on %d nodes is more GPUs than any cluster has", gres, nodes)
		}
		total += perNode * max(nodes, 1)
	}
	if total > maxCount {
		return 0, fmt.Errorf("%d GPUs is more than any cluster has; ask for fewer", total)
	}
	return total, nil
}

// maxCount bounds GPU and node counts, far above any cluster, so that
// sums and products cannot overflow.
const maxCount = 1 << 24

// count reads a GPU count: decimal, at most 4 digits.
func count(s string) (int, error) {
	if s == "" || len(s) > 4 || strings.TrimLeft(s, "0123456789") != "" {
		return 0, fmt.Errorf("%q is not a count", s)
	}
	return strconv.Atoi(s)
}

// bareRepository lets a repository be written without a scheme
// ("github.com/o/r"), as the read API and dispatch rules allow.
func bareRepository(s string) string {
	if s != "" && !strings.Contains(s, "://") {
		return "https://" + s
	}
	return s
}

// dispatchDoc is one entry of "dispatch" as written.
type dispatchDoc struct {
	Repositories []string `yaml:"repositories"`
	Partitions   []string `yaml:"partitions"`
	Accounts     []string `yaml:"accounts"`
	QOS          []string `yaml:"qos"`
	MaxTime      string   `yaml:"maxTime"`
	MaxNodes     *int     `yaml:"maxNodes"`
	MaxGPUs      *int     `yaml:"maxGPUs"`
}

// slurmName is a partition's, account's or QOS's name.
var slurmName = lazyregexp.New(`^[A-Za-z0-9._-]{1,64}$`)

// dispatch compiles the "dispatch" section.
func (c *compiler) dispatch(p *Policy, docs []dispatchDoc) {
	for i, d := range docs {
		field := fmt.Sprintf("dispatch[%d]", i)
		r := DispatchRule{MaxNodes: -1, MaxGPUs: -1}
		ok := true
		if len(d.Repositories) == 0 {
			c.errorf(field+".repositories", "is empty; list the source repositories whose releases this rule covers, like \"github.com/owner/repo\"")
			ok = false
		}
		for j, s := range d.Repositories {
			if repo, good := c.sourceRepository(fmt.Sprintf("%s.repositories[%d]", field, j), bareRepository(s)); good {
				r.Repositories = append(r.Repositories, repo)
			} else {
				ok = false
			}
		}
		if len(d.Partitions) == 0 {
			c.errorf(field+".partitions", "is empty, which allows no job at all; list the partitions these releases may use, like [debug]")
			ok = false
		}
		for _, list := range []struct {
			name string
			in   []string
			out  *[]string
		}{{"partitions", d.Partitions, &r.Partitions}, {"accounts", d.Accounts, &r.Accounts}, {"qos", d.QOS, &r.QOS}} {
			for j, s := range list.in {
				if !slurmName.MatchString(s) {
					c.errorf(fmt.Sprintf("%s.%s[%d]", field, list.name, j), "%q is not a Slurm name; write 1 to 64 characters of A-Z a-z 0-9 . _ -", s)
					ok = false
					continue
				}
				*list.out = append(*list.out, s)
			}
		}
		if d.MaxTime != "" {
			t, err := ParseAge(d.MaxTime)
			if err != nil {
				c.errorf(field+".maxTime", "%v", err)
				ok = false
			}
			r.MaxTime = t
		}
		for _, m := range []struct {
			name string
			in   *int
			out  *int
		}{{"maxNodes", d.MaxNodes, &r.MaxNodes}, {"maxGPUs", d.MaxGPUs, &r.MaxGPUs}} {
			switch {
			case m.in == nil:
			case *m.in < 0:
				c.errorf(field+"."+m.name, "is %d; write a count of 0 or more, or leave it out for no limit", *m.in)
				ok = false
			default:
				*m.out = *m.in
			}
		}
		if m := d.MaxNodes; m != nil && *m == 0 {
			c.errorf(field+".maxNodes", "is 0, which allows no job at all; write 1 or more, or leave it out for no limit")
			ok = false
		}
		if ok {
			p.Dispatch = append(p.Dispatch, r)
		}
	}
}
