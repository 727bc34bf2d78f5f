package policy_test

import (
	"strings"
	"testing"
	"time"

	"github.com/slipway/actions/internal/policy"
	"github.com/slipway/actions/internal/policy/policytest"
)

const dispatchRules = `dispatch:
  - repositories: [github.com/octo/app, "git+https://github.com/octo/lib"]
    partitions: [debug, short]
    accounts: [proj1]
    qos: [normal]
    maxTime: 2h
    maxNodes: 1
    maxGPUs: 0
  - repositories: ["https://github.com/octo/app"]   # a second rule for app: the GPU partition
    partitions: [gpu]
    maxTime: 1d
    maxNodes: 2
    maxGPUs: 4
  - repositories: [github.com/octo/free]            # no limits beyond the partition
    partitions: [debug]
`

func TestCheckDispatch(t *testing.T) {
	t.Parallel()
	p := uploadersPolicy(t, dispatchRules)
	ok := policy.DispatchRequest{Partition: "debug", Account: "proj1", QOS: "normal", TimeLimit: time.Hour, Nodes: 1}
	with := func(edit func(*policy.DispatchRequest)) policy.DispatchRequest {
		r := ok
		edit(&r)
		return r
	}
	for _, tc := range []struct {
		name, repo string
		req        policy.DispatchRequest
		limit      string // "" = allowed
		reason     string
	}{
		{"within the first rule", "git+https://github.com/octo/app.git", ok, "", "dispatch[0] allows"},
		{"bare repository", "github.com/octo/lib", ok, "", "dispatch[0]"},
		{"second rule: gpu", "https://github.com/octo/app", policy.DispatchRequest{Partition: "gpu", TimeLimit: 20 * time.Hour, Nodes: 2, GPUs: "a100:2", Gres: "gpu:1"}, "", "dispatch[1]"},
		{"unknown repository", "https://github.com/evil/app", ok, "repository", `no dispatch rule names the repository "https://github.com/evil/app"`},
		{"bad repository", "https://github.com/octo/../evil", ok, "repository", "dot segment"},
		{"partition not allowed", "github.com/octo/lib", with(func(r *policy.DispatchRequest) { r.Partition = "gpu" }), "partition", `partition "gpu" is not allowed; use one of ["debug" "short"]`},
		{"no partition", "github.com/octo/lib", with(func(r *policy.DispatchRequest) { r.Partition = "" }), "partition", "names no partition"},
		{"account", "github.com/octo/lib", with(func(r *policy.DispatchRequest) { r.Account = "proj2" }), "account", `account "proj2" is not allowed`},
		{"no account", "github.com/octo/lib", with(func(r *policy.DispatchRequest) { r.Account = "" }), "account", `account "" is not allowed`},
		{"qos", "github.com/octo/lib", with(func(r *policy.DispatchRequest) { r.QOS = "high" }), "qos", `QOS "high"`},
		{"time over", "github.com/octo/lib", with(func(r *policy.DispatchRequest) { r.TimeLimit = 2*time.Hour + time.Second }), "maxTime", "time limit 2h1m0s is over maxTime 2h0m0s"},
		{"time exactly", "github.com/octo/lib", with(func(r *policy.DispatchRequest) { r.TimeLimit = 2 * time.Hour }), "", ""},
		{"no time limit", "github.com/octo/lib", with(func(r *policy.DispatchRequest) { r.TimeLimit = 0 }), "maxTime", "no time limit"},
		{"nodes over", "github.com/octo/lib", with(func(r *policy.DispatchRequest) { r.Nodes = 2 }), "maxNodes", "2 nodes is over maxNodes 1"},
		{"tasks without nodes", "github.com/octo/lib", with(func(r *policy.DispatchRequest) { r.Nodes, r.NTasks = 0, 8 }), "maxNodes", "give nodes"},
		{"one task without nodes", "github.com/octo/lib", with(func(r *policy.DispatchRequest) { r.Nodes, r.NTasks = 0, 1 }), "", ""},
		{"gpus over", "github.com/octo/lib", with(func(r *policy.DispatchRequest) { r.GPUs = "1" }), "maxGPUs", "1 GPUs in all, over maxGPUs 0"},
		{"gres gpus over", "github.com/octo/lib", with(func(r *policy.DispatchRequest) { r.Gres = "gpu" }), "maxGPUs", "over maxGPUs 0"},
		{"other gres", "github.com/octo/lib", with(func(r *policy.DispatchRequest) { r.Gres = "mps:100" }), "", ""},
		{"gres per node counts every node", "github.com/octo/app", policy.DispatchRequest{Partition: "gpu", TimeLimit: time.Hour, Nodes: 2, Gres: "gpu:a100:3"}, "maxGPUs", "6 GPUs in all"},
		{"gpus unreadable", "github.com/octo/lib", with(func(r *policy.DispatchRequest) { r.GPUs = "lots" }), "maxGPUs", `gpus "lots"`},
		{"both rules refuse: both named", "github.com/octo/app", with(func(r *policy.DispatchRequest) { r.Partition = "big" }), "partition", "dispatch[1]: partition"},
		{"no limits", "github.com/octo/free", policy.DispatchRequest{Partition: "debug", Nodes: 64, GPUs: "8"}, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := p.CheckDispatch(tc.repo, tc.req)
			if d.Allowed != (tc.limit == "") || d.Limit != tc.limit || !strings.Contains(d.Reason, tc.reason) {
				t.Fatalf("CheckDispatch = %+v, want limit %q and a reason containing %q", d, tc.limit, tc.reason)
			}
		})
	}
	if d := uploadersPolicy(t, "").CheckDispatch("github.com/octo/app", ok); d.Allowed || !strings.Contains(d.Reason, "no dispatch rules") {
		t.Fatalf("a policy without dispatch rules: %+v", d)
	}
}

func TestDispatchParseErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, rules, want string }{
		{"no repositories", "dispatch:\n  - partitions: [debug]\n", `field "dispatch[0].repositories": is empty`},
		{"bad repository", "dispatch:\n  - repositories: [\"https://github.com/o/r?x=1\"]\n    partitions: [debug]\n", `field "dispatch[0].repositories[0]"`},
		{"no partitions", "dispatch:\n  - repositories: [github.com/o/r]\n", `field "dispatch[0].partitions": is empty, which allows no job`},
		{"bad partition", "dispatch:\n  - repositories: [github.com/o/r]\n    partitions: [\"debug;id\"]\n", `field "dispatch[0].partitions[0]": "debug;id" is not a Slurm name`},
		{"bad account", "dispatch:\n  - repositories: [github.com/o/r]\n    partitions: [a]\n    accounts: [\"\"]\n", `field "dispatch[0].accounts[0]"`},
		{"bad time", "dispatch:\n  - repositories: [github.com/o/r]\n    partitions: [a]\n    maxTime: forever\n", `field "dispatch[0].maxTime": "forever" is not a duration`},
		{"negative gpus", "dispatch:\n  - repositories: [github.com/o/r]\n    partitions: [a]\n    maxGPUs: -1\n", `field "dispatch[0].maxGPUs": is -1`},
		{"zero nodes", "dispatch:\n  - repositories: [github.com/o/r]\n    partitions: [a]\n    maxNodes: 0\n", `field "dispatch[0].maxNodes": is 0`},
		{"unknown field", "dispatch:\n  - repositories: [github.com/o/r]\n    partitions: [a]\n    maxGPU: 1\n", `unknown field "maxGPU"`},
		{"not a list", "dispatch: {partitions: [a]}\n", "sequence"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := parseWithKey(t, tc.rules)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Parse error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

// FuzzGPUCount: whatever the text, GPUCount answers a count or an error,
// never a negative count and never a panic.
func FuzzGPUCount(f *testing.F) {
	for _, s := range []string{"2", "a100:2", "gpu", "gpu:2", "gpu:a100:2,mps:100", "gres/gpu:1", "a:b:c", ",", "gpu:99999"} {
		f.Add(s, s, 2)
	}
	f.Fuzz(func(t *testing.T, gpus, gres string, nodes int) {
		if nodes < 0 || nodes > 1<<16 {
			return
		}
		n, err := policy.GPUCount(gpus, gres, nodes)
		if err == nil && n < 0 {
			t.Fatalf("GPUCount(%q, %q, %d) = %d", gpus, gres, nodes, n)
		}
	})
}

// parseWithKey parses a policy with one key and the extra YAML given.
func parseWithKey(t *testing.T, extra string) (*policy.Policy, error) {
	t.Helper()
	_, pub := policytest.NewKeypair(t)
	doc := header + "keys:\n  - name: release\n    pem: |\n" + indent(string(pub), 6) + "\n" + extra
	return policy.Parse([]byte(doc), policy.Options{Name: "policy.yaml", Dir: t.TempDir()})
}
