package slurm

import (
	"bytes"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/lazyregexp"
)

// Limits of the model (Slurm's own limits are larger or equal).
const (
	MaxNameLen    = 64
	MaxCommentLen = 255
	MaxScriptSize = 4 << 20 // slurm.conf max_script_size default
	maxCount      = 1 << 20
	maxPathLen    = 4096
	maxFieldLen   = 256
	maxEnvValue   = 128 << 10
)

var (
	nameRE       = lazyregexp.New(`^[A-Za-z0-9._-]+$`)
	commentRE    = lazyregexp.New(`^[A-Za-z0-9._:=/-]+$`)
	identRE      = lazyregexp.New(`^[A-Za-z0-9_][A-Za-z0-9._-]*$`) // partition, account, qos, cluster
	memRE        = lazyregexp.New(`^([0-9]{1,12})([KMGT]?)$`)
	gpusRE       = lazyregexp.New(`^(?:[A-Za-z0-9_][A-Za-z0-9._-]*:)?([0-9]{1,6})$`)
	gresItemRE   = lazyregexp.New(`^[A-Za-z0-9_][A-Za-z0-9._-]*(?::[A-Za-z0-9_][A-Za-z0-9._-]*)?(?::[0-9]{1,6})?$`)
	constraintRE = lazyregexp.New(`^[A-Za-z0-9_.&|,*\[\]():!-]+$`)
	envNameRE    = lazyregexp.New(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// Validate checks every field of s and returns the first problem as a
// BadInput error naming the field, the value and the form it must have.
func (s JobSpec) Validate() error {
	checks := []func() error{
		func() error { return checkRE("name", s.Name, nameRE, MaxNameLen, "letters, digits, '.', '_' and '-'") },
		func() error { return CheckComment(s.Comment) },
		func() error { return checkIdent("partition", s.Partition) },
		func() error { return checkIdent("account", s.Account) },
		func() error { return checkIdent("qos", s.QOS) },
		func() error { return checkIdent("cluster", s.Cluster) },
		s.checkCounts,
		func() error { _, err := s.TimeLimitMinutes(); return err },
		func() error { _, err := MemMiB(s.Mem); return err },
		func() error { _, err := GPUCount(s.GPUs); return err },
		func() error { return checkGres(s.Gres) },
		func() error {
			return checkRE("constraint", s.Constraint, constraintRE, maxFieldLen, "feature names joined with & | , * [ ] ( ) : !")
		},
		func() error {
			if s.WorkDir == "" {
				return exitcode.BadInputf("slurm job spec: workdir is empty: set an absolute directory on the shared filesystem")
			}
			return checkPath("workdir", s.WorkDir, false)
		},
		func() error { return checkPath("stdout", s.Stdout, true) },
		func() error { return checkPath("stderr", s.Stderr, true) },
		func() error { return checkPath("container", s.Container, false) },
		s.checkEnv,
		func() error { return CheckScript(s.Script) },
	}
	for _, c := range checks {
		if err := c(); err != nil {
			return err
		}
	}
	return nil
}

// CheckComment checks an idempotency key or any job comment: at most 255
// bytes of [A-Za-z0-9._:=/-]; "" is allowed.
func CheckComment(c string) error {
	return checkRE("comment", c, commentRE, MaxCommentLen, "letters, digits and . _ : = / -")
}

func checkRE(field, v string, re *lazyregexp.Regexp, max int, form string) error {
	if v == "" {
		return nil
	}
	if len(v) > max {
		return exitcode.BadInputf("slurm job spec: %s %q is %d bytes long: use at most %d", field, short(v), len(v), max)
	}
	if !re.MatchString(v) {
		return exitcode.BadInputf("slurm job spec: %s %q has characters Slurm or Slipway does not accept there: use %s", field, short(v), form)
	}
	return nil
}

func checkIdent(field, v string) error {
	return checkRE(field, v, identRE, MaxNameLen, "letters, digits, '.', '_' and '-', not starting with '.' or '-'")
}

func (s JobSpec) checkCounts() error {
	for _, c := range []struct {
		field string
		n     int
	}{{"nodes", s.Nodes}, {"ntasks", s.NTasks}, {"cpus-per-task", s.CPUsPerTask}} {
		if c.n < 0 || c.n > maxCount {
			return exitcode.BadInputf("slurm job spec: %s is %d: use 0 (unset) or a count up to %d", c.field, c.n, maxCount)
		}
	}
	return nil
}

// TimeLimitMinutes returns the time limit in whole minutes, rounded up; 0 is
// unset (the partition's default).
func (s JobSpec) TimeLimitMinutes() (uint32, error) {
	if s.TimeLimit < 0 {
		return 0, exitcode.BadInputf("slurm job spec: time limit %s is negative: use 0 (the partition's default) or a positive duration", s.TimeLimit)
	}
	// A time.Duration is at most 292 years: 153,722,867 minutes fit in uint32.
	m := (s.TimeLimit + time.Minute - 1) / time.Minute
	return uint32(m), nil
}

// MemMiB parses Slurm's --mem syntax ("512", "512M", "4G", "100K", "1T"; M
// when there is no unit) into MiB, rounding kibibytes up. "" is 0 (unset);
// "0" asks for all the memory of the node and is 0 as well, so callers that
// must tell them apart look at the string.
func MemMiB(mem string) (uint64, error) {
	if mem == "" {
		return 0, nil
	}
	m := memRE.FindStringSubmatch(mem)
	if m == nil {
		return 0, exitcode.BadInputf("slurm job spec: mem %q is not in Slurm's --mem syntax: use a whole number with an optional unit K, M, G or T, such as \"512M\" or \"4G\"", short(mem))
	}
	n, _ := strconv.ParseUint(m[1], 10, 64)
	switch m[2] {
	case "K":
		n = (n + 1023) / 1024
	case "G":
		n *= 1 << 10
	case "T":
		n *= 1 << 20
	}
	if n > 1<<40 {
		return 0, exitcode.BadInputf("slurm job spec: mem %q is larger than any node: use at most 1048576T", mem)
	}
	return n, nil
}

// GPUCount returns the number of GPUs of a --gpus value ("2", "a100:2"); ""
// is 0.
func GPUCount(gpus string) (int, error) {
	if gpus == "" {
		return 0, nil
	}
	m := gpusRE.FindStringSubmatch(gpus)
	if m == nil {
		return 0, exitcode.BadInputf("slurm job spec: gpus %q is not in Slurm's --gpus syntax: use a count or TYPE:COUNT, such as \"2\" or \"a100:2\"", short(gpus))
	}
	n, _ := strconv.Atoi(m[1])
	return n, nil
}

func checkGres(g string) error {
	if g == "" {
		return nil
	}
	if len(g) > maxFieldLen {
		return exitcode.BadInputf("slurm job spec: gres is %d bytes long: use at most %d", len(g), maxFieldLen)
	}
	for _, item := range strings.Split(g, ",") {
		if !gresItemRE.MatchString(item) {
			return exitcode.BadInputf("slurm job spec: gres %q: item %q is not NAME[:TYPE][:COUNT]: use a list such as \"gpu:a100:2,shard:1\"", short(g), short(item))
		}
	}
	return nil
}

// checkPath refuses relative, unclean and odd paths: a path that Slurm or a
// log reader could take for something else.
func checkPath(field, p string, patterns bool) error {
	if p == "" {
		return nil
	}
	if len(p) > maxPathLen {
		return exitcode.BadInputf("slurm job spec: %s is %d bytes long: use at most %d", field, len(p), maxPathLen)
	}
	for _, r := range p {
		if r < 0x20 || r == 0x7f || r == '\\' {
			return exitcode.BadInputf("slurm job spec: %s %q has a control character or a backslash: use a plain absolute path", field, short(p))
		}
	}
	if !path.IsAbs(p) || path.Clean(p) != p {
		return exitcode.BadInputf("slurm job spec: %s %q is not an absolute, clean path: use a path such as /shared/work/job (no '.', '..' or '//' parts, no trailing '/')", field, short(p))
	}
	if i := strings.IndexByte(p, '%'); i >= 0 {
		if !patterns {
			return exitcode.BadInputf("slurm job spec: %s %q has a '%%': Slurm expands patterns only in stdout and stderr; use a path without it", field, short(p))
		}
		for rest := p; ; {
			i := strings.IndexByte(rest, '%')
			if i < 0 {
				break
			}
			if i+1 >= len(rest) || !strings.ContainsRune("jx%", rune(rest[i+1])) {
				return exitcode.BadInputf("slurm job spec: %s %q has a pattern other than %%j, %%x or %%%%: use only those (the follower expands them)", field, short(p))
			}
			rest = rest[i+2:]
		}
	}
	return nil
}

// reservedEnv are names sbatch itself reads (options, configuration) or that
// Slurm sets for the job: a job spec may not set them.
var reservedEnvPrefixes = []string{"SLURM_", "SBATCH_", "SALLOC_", "SRUN_", "SPANK_"}

func (s JobSpec) checkEnv() error {
	for k, v := range s.Env {
		if !envNameRE.MatchString(k) || len(k) > maxFieldLen {
			return exitcode.BadInputf("slurm job spec: environment name %q is not [A-Za-z_][A-Za-z0-9_]*: rename the variable", short(k))
		}
		switch k {
		case "ALL", "NIL", "NONE":
			return exitcode.BadInputf("slurm job spec: environment name %q is a keyword of sbatch --export: rename the variable", k)
		}
		for _, p := range reservedEnvPrefixes {
			if strings.HasPrefix(k, p) {
				return exitcode.BadInputf("slurm job spec: environment name %q starts with %q, which Slurm reads or sets itself: rename the variable or set the JobSpec field instead", k, p)
			}
		}
		if strings.IndexByte(v, 0) >= 0 {
			return exitcode.BadInputf("slurm job spec: environment variable %q has a NUL byte in its value: an environment cannot carry it", k)
		}
		if len(v) > maxEnvValue {
			return exitcode.BadInputf("slurm job spec: environment variable %q is %d bytes long: use at most %d (pass large data in a file)", k, len(v), maxEnvValue)
		}
	}
	return nil
}

// directivePrefixes are the lines sbatch reads options from (22.05 still reads
// #PBS and #BSUB unless --ignore-pbs).
var directivePrefixes = [][]byte{[]byte("#SBATCH"), []byte("#PBS"), []byte("#BSUB")}

// CheckScript checks a batch script: "#!" first, no NUL, no carriage return
// (sbatch refuses DOS line breaks), at most MaxScriptSize bytes, and no
// #SBATCH/#PBS/#BSUB directive on any line: resources come from the JobSpec
// alone, where the policy saw them.
func CheckScript(script []byte) error {
	if len(script) == 0 {
		return exitcode.BadInputf("slurm job spec: the script is empty: render one with internal/jobscript")
	}
	if len(script) > MaxScriptSize {
		return exitcode.BadInputf("slurm job spec: the script is %d bytes long: use at most %d (Slurm's max_script_size)", len(script), MaxScriptSize)
	}
	if !bytes.HasPrefix(script, []byte("#!")) {
		return exitcode.BadInputf("slurm job spec: the script does not start with \"#!\": start it with an interpreter line such as \"#!/bin/sh\"")
	}
	if bytes.IndexByte(script, 0) >= 0 {
		return exitcode.BadInputf("slurm job spec: the script has a NUL byte: sbatch refuses it; remove it")
	}
	if bytes.IndexByte(script, '\r') >= 0 {
		return exitcode.BadInputf("slurm job spec: the script has a carriage return: sbatch refuses DOS line breaks; use \\n only")
	}
	for n, line := range bytes.Split(script, []byte("\n")) {
		t := bytes.ToUpper(bytes.TrimLeft(line, " \t"))
		for _, d := range directivePrefixes {
			if bytes.HasPrefix(t, d) {
				return exitcode.BadInputf("slurm job spec: the script's line %d is a %s directive: set the JobSpec field instead (resources come from the spec, which the policy checked)", n+1, d)
			}
		}
	}
	return nil
}

// ExpandLogPath expands %j (job id), %x (job name) and %% in a Stdout or
// Stderr path the way Slurm does; other characters are kept as they are.
func ExpandLogPath(p string, id uint32, name string) string {
	if !strings.Contains(p, "%") {
		return p
	}
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		if p[i] != '%' || i+1 >= len(p) {
			b.WriteByte(p[i])
			continue
		}
		switch p[i+1] {
		case 'j':
			b.WriteString(strconv.FormatUint(uint64(id), 10))
		case 'x':
			b.WriteString(name)
		case '%':
			b.WriteByte('%')
		default:
			b.WriteString(p[i : i+2])
		}
		i++
	}
	return b.String()
}

func short(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
