package slurm

import (
	"strings"
	"testing"
	"time"

	"github.com/slipway/actions/internal/exitcode"
)

func validSpec() JobSpec {
	return JobSpec{
		Name: "slipway-r-1", Comment: "slipway:v1:run=1.1:job=build:release=r-1:spec=0123456789abcdef",
		Partition: "debug", Account: "proj_1", QOS: "normal", TimeLimit: 90 * time.Second,
		Nodes: 1, NTasks: 1, CPUsPerTask: 1, Mem: "64M", GPUs: "a100:2", Gres: "gpu:a100:2,shard:1",
		Constraint: "[intel&avx2|amd]", WorkDir: "/shared/w", Stdout: "/shared/w/%x-%j.out",
		Stderr: "/shared/w/%j.err", Env: map[string]string{"PATH": "/usr/bin:/bin", "_X1": "a b\n$c"},
		Script: []byte("#!/bin/sh\nexec /usr/bin/true\n"), Container: "/shared/bundle",
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(*JobSpec)
		want   string // "" = valid; else a part of the error
	}{
		{"valid", func(*JobSpec) {}, ""},
		{"minimal", func(s *JobSpec) { *s = JobSpec{WorkDir: "/w", Script: []byte("#!/bin/sh\n")} }, ""},
		{"name space", func(s *JobSpec) { s.Name = "a b" }, "name \"a b\""},
		{"name too long", func(s *JobSpec) { s.Name = strings.Repeat("a", 65) }, "at most 64"},
		{"comment semicolon", func(s *JobSpec) { s.Comment = "x;rm" }, "comment"},
		{"comment too long", func(s *JobSpec) { s.Comment = strings.Repeat("a", 256) }, "at most 255"},
		{"partition dash", func(s *JobSpec) { s.Partition = "-p" }, "partition"},
		{"partition comma", func(s *JobSpec) { s.Partition = "a,b" }, "partition"},
		{"account newline", func(s *JobSpec) { s.Account = "a\n" }, "account"},
		{"qos dollar", func(s *JobSpec) { s.QOS = "$q" }, "qos"},
		{"cluster space", func(s *JobSpec) { s.Cluster = "c 1" }, "cluster"},
		{"negative time", func(s *JobSpec) { s.TimeLimit = -time.Second }, "negative"},
		{"negative nodes", func(s *JobSpec) { s.Nodes = -1 }, "nodes"},
		{"huge ntasks", func(s *JobSpec) { s.NTasks = 1 << 30 }, "ntasks"},
		{"mem unit", func(s *JobSpec) { s.Mem = "4GB" }, "--mem syntax"},
		{"mem negative", func(s *JobSpec) { s.Mem = "-1" }, "--mem syntax"},
		{"mem huge", func(s *JobSpec) { s.Mem = "999999999999T" }, "larger than"},
		{"gpus", func(s *JobSpec) { s.GPUs = "a100:x" }, "--gpus syntax"},
		{"gres", func(s *JobSpec) { s.Gres = "gpu:a100:2;x" }, "gres"},
		{"gres empty item", func(s *JobSpec) { s.Gres = "gpu,,x" }, "gres"},
		{"constraint", func(s *JobSpec) { s.Constraint = "a b" }, "constraint"},
		{"workdir empty", func(s *JobSpec) { s.WorkDir = "" }, "workdir is empty"},
		{"workdir relative", func(s *JobSpec) { s.WorkDir = "w" }, "absolute"},
		{"workdir dotdot", func(s *JobSpec) { s.WorkDir = "/w/../etc" }, "clean"},
		{"workdir trailing slash", func(s *JobSpec) { s.WorkDir = "/w/" }, "clean"},
		{"workdir percent", func(s *JobSpec) { s.WorkDir = "/w/%j" }, "'%'"},
		{"stdout newline", func(s *JobSpec) { s.Stdout = "/w/a\nb" }, "control character"},
		{"stdout backslash", func(s *JobSpec) { s.Stdout = "/w/\\%j" }, "backslash"},
		{"stdout other pattern", func(s *JobSpec) { s.Stdout = "/w/%u.out" }, "%j, %x"},
		{"stdout trailing percent", func(s *JobSpec) { s.Stdout = "/w/a%" }, "%j, %x"},
		{"stdout double percent", func(s *JobSpec) { s.Stdout = "/w/a%%b" }, ""},
		{"container relative", func(s *JobSpec) { s.Container = "b" }, "container"},
		{"env name", func(s *JobSpec) { s.Env = map[string]string{"1A": ""} }, "environment name"},
		{"env name dash", func(s *JobSpec) { s.Env = map[string]string{"A-B": ""} }, "environment name"},
		{"env keyword", func(s *JobSpec) { s.Env = map[string]string{"NONE": ""} }, "keyword"},
		{"env slurm", func(s *JobSpec) { s.Env = map[string]string{"SLURM_CONF": "/x"} }, "SLURM_"},
		{"env sbatch", func(s *JobSpec) { s.Env = map[string]string{"SBATCH_PARTITION": "gpu"} }, "SBATCH_"},
		{"env nul", func(s *JobSpec) { s.Env = map[string]string{"A": "a\x00"} }, "NUL"},
		{"script empty", func(s *JobSpec) { s.Script = nil }, "empty"},
		{"script no shebang", func(s *JobSpec) { s.Script = []byte("echo\n") }, "#!"},
		{"script nul", func(s *JobSpec) { s.Script = []byte("#!/bin/sh\n\x00") }, "NUL"},
		{"script crlf", func(s *JobSpec) { s.Script = []byte("#!/bin/sh\r\ntrue\r\n") }, "carriage return"},
		{"script sbatch", func(s *JobSpec) { s.Script = []byte("#!/bin/sh\n#SBATCH --gres=gpu:8\ntrue\n") }, "line 2 is a #SBATCH"},
		{"script sbatch indented lower", func(s *JobSpec) { s.Script = []byte("#!/bin/sh\n  #sbatch -p gpu\n") }, "#SBATCH"},
		{"script pbs", func(s *JobSpec) { s.Script = []byte("#!/bin/sh\n#PBS -q gpu\n") }, "#PBS"},
		{"script too big", func(s *JobSpec) { s.Script = append([]byte("#!/bin/sh\n"), make([]byte, MaxScriptSize)...) }, "max_script_size"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := validSpec()
			tt.change(&s)
			err := s.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate = %v, want an error containing %q", err, tt.want)
			}
			if exitcode.Of(err) != exitcode.Usage {
				t.Errorf("exit code %v, want usage", exitcode.Of(err))
			}
			if !strings.HasPrefix(err.Error(), "slurm job spec: ") {
				t.Errorf("error %q does not name the job spec", err)
			}
		})
	}
}

func TestTimeLimitMinutes(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]uint32{0: 0, time.Nanosecond: 1, time.Minute: 1, 61 * time.Second: 2, 2 * time.Hour: 120} {
		got, err := JobSpec{TimeLimit: d}.TimeLimitMinutes()
		if err != nil || got != want {
			t.Errorf("TimeLimitMinutes(%s) = %d, %v; want %d", d, got, err, want)
		}
	}
}

func TestMemMiB(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]uint64{"": 0, "0": 0, "512": 512, "512M": 512, "1K": 1, "1025K": 2, "4G": 4096, "1T": 1 << 20} {
		got, err := MemMiB(in)
		if err != nil || got != want {
			t.Errorf("MemMiB(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"4g", "4 G", "G", "1.5G", "4GB", "+4", "0x10"} {
		if _, err := MemMiB(in); err == nil {
			t.Errorf("MemMiB(%q) accepted", in)
		}
	}
}

func TestGPUCount(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]int{"": 0, "0": 0, "2": 2, "a100:4": 4, "nvidia_h100-80g:8": 8} {
		got, err := GPUCount(in)
		if err != nil || got != want {
			t.Errorf("GPUCount(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"a100", ":2", "a:b:2", "-1", "2,3"} {
		if _, err := GPUCount(in); err == nil {
			t.Errorf("GPUCount(%q) accepted", in)
		}
	}
}

func TestExpandLogPath(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"/w/slurm-%j.out": "/w/slurm-42.out", "/w/%x/%j-%%j": "/w/job/42-%j", "/w/plain": "/w/plain", "/w/a%": "/w/a%",
	} {
		if got := ExpandLogPath(in, 42, "job"); got != want {
			t.Errorf("ExpandLogPath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFingerprint(t *testing.T) {
	t.Parallel()
	a := validSpec()
	b := validSpec()
	b.Comment = "other"
	b.Env = map[string]string{"PATH": "different", "_X1": "secret"}
	if a.Fingerprint() != b.Fingerprint() {
		t.Error("the comment or the environment's values changed the fingerprint")
	}
	for _, change := range []func(*JobSpec){
		func(s *JobSpec) { s.Partition = "other" },
		func(s *JobSpec) { s.Env = map[string]string{"PATH": ""} },
		func(s *JobSpec) { s.Script = append(s.Script, '\n') },
		func(s *JobSpec) { s.TimeLimit++ },
	} {
		c := validSpec()
		change(&c)
		if c.Fingerprint() == a.Fingerprint() {
			t.Errorf("a changed spec kept the fingerprint: %+v", c)
		}
	}
	if len(a.Fingerprint()) != 64 {
		t.Errorf("fingerprint %q is not 64 hex digits", a.Fingerprint())
	}
}

func FuzzValidate(f *testing.F) {
	f.Add("debug", "64M", "a100:1", "gpu:1", "a&b", "/w/%j.out", "A", "#!/bin/sh\n")
	f.Add("", "4GB", "", "", "", "rel", "1", "#SBATCH")
	f.Fuzz(func(t *testing.T, part, mem, gpus, gres, constraint, out, env, script string) {
		s := JobSpec{Partition: part, Mem: mem, GPUs: gpus, Gres: gres, Constraint: constraint, WorkDir: "/w",
			Stdout: out, Env: map[string]string{env: "v"}, Script: []byte(script)}
		if err := s.Validate(); err != nil {
			return
		}
		// What Validate accepts is safe to put in one argv word and in JSON.
		for _, v := range []string{part, gpus, gres, constraint, out, env} {
			if strings.ContainsAny(v, "\x00\n\r \t'\"$`;") {
				t.Fatalf("Validate accepted %q", v)
			}
		}
		_ = ExpandLogPath(out, 1, "n")
	})
}
