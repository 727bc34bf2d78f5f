package slurm

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
)

// Fingerprint returns the hex SHA-256 of the canonical form of s without its
// Comment (the idempotency key that carries the fingerprint), the values of Env (their names are part of it, sorted) and with the script as
// its SHA-256: the same job asked twice has the same fingerprint, and no
// secret of the environment goes into it. The idempotency key (API8.md) uses
// its first 16 hex digits.
func (s JobSpec) Fingerprint() string {
	names := make([]string, 0, len(s.Env))
	for k := range s.Env {
		names = append(names, k)
	}
	slices.Sort(names)
	script := sha256.Sum256(s.Script)
	c := struct {
		V                           int
		Name                        string
		Partition, Account, QOS     string
		Cluster                     string
		TimeLimitNS                 int64
		Nodes, NTasks, CPUsPerTask  int
		Mem, GPUs, Gres, Constraint string
		WorkDir, Stdout, Stderr     string
		EnvNames                    []string
		ScriptSHA256                string
		Container                   string
	}{1, s.Name, s.Partition, s.Account, s.QOS, s.Cluster, int64(s.TimeLimit),
		s.Nodes, s.NTasks, s.CPUsPerTask, s.Mem, s.GPUs, s.Gres, s.Constraint,
		s.WorkDir, s.Stdout, s.Stderr, names, hex.EncodeToString(script[:]), s.Container}
	b, _ := json.Marshal(c) // a struct of strings, ints and a slice: never fails
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
