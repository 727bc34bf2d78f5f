package toolchain

import (
	"bytes"
	"context"
	"log/slog"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/execenv"
)

// Probe asks one tool for its version.
type Probe struct {
	// Name is the tool's name in provenance.
	Name string
	// Programs are the executables to try, first found wins ("gcc", "cc").
	Programs []string
	// Args make the program print its version.
	Args []string
	// Version extracts the version from the program's combined output; ""
	// means not understood.
	Version func(out string) string
	// URI makes the tool's purl-like identifier from its version.
	URI func(version string) string
}

// versionRE finds the first dotted version number.
var versionRE = regexp.MustCompile(`\d+\.\d+(\.\d+)?([-+~.][0-9A-Za-z.+~-]*)?`)

// firstVersion returns the first version number in out, line by line (java
// may print "Picked up JAVA_TOOL_OPTIONS" first).
func firstVersion(out string) string {
	for _, line := range strings.Split(out, "\n") {
		if v := versionRE.FindString(line); v != "" {
			return v
		}
	}
	return ""
}

// lastField returns the last field of the first line, when it looks like a
// version ("gcc (Debian 12.2.0-14) 12.2.0" → "12.2.0").
func lastField(out string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(out), "\n")
	f := strings.Fields(line)
	if len(f) == 0 || versionRE.FindString(f[len(f)-1]) != f[len(f)-1] {
		return firstVersion(out)
	}
	return f[len(f)-1]
}

var goVersionRE = regexp.MustCompile(`\bgo\d+(\.\d+)*\S*`)

func generic(name string) func(string) string {
	return func(v string) string { return "pkg:generic/" + name + "@" + v }
}

// Default are the probes for the common toolchains.
var Default = []Probe{
	{Name: "go", Programs: []string{"go"}, Args: []string{"version"},
		Version: func(out string) string { return goVersionRE.FindString(out) },
		URI:     func(v string) string { return "pkg:golang/toolchain@" + v }},
	{Name: "gcc", Programs: []string{"gcc", "cc"}, Args: []string{"--version"}, Version: lastField, URI: generic("gcc")},
	{Name: "rustc", Programs: []string{"rustc"}, Args: []string{"--version"}, Version: firstVersion, URI: generic("rustc")},
	{Name: "cargo", Programs: []string{"cargo"}, Args: []string{"--version"}, Version: firstVersion, URI: generic("cargo")},
	{Name: "node", Programs: []string{"node"}, Args: []string{"--version"}, Version: firstVersion, URI: generic("node")},
	{Name: "python3", Programs: []string{"python3"}, Args: []string{"--version"}, Version: firstVersion, URI: generic("python")},
	{Name: "java", Programs: []string{"java"}, Args: []string{"-version"}, Version: firstVersion, URI: generic("java")},
	{Name: "make", Programs: []string{"make"}, Args: []string{"--version"}, Version: firstVersion, URI: generic("make")},
}

// Options say where and how probes run.
type Options struct {
	// Dir is the working directory (the workspace: tools such as rustup and
	// go honour toolchain files there).
	Dir string
	// Env is the environment ("NAME=value"), PATH included.
	Env []string
	// Timeout bounds each probe; 10 seconds when zero.
	Timeout time.Duration
	// Log receives why a tool was left out (debug level); nil is silent.
	Log *slog.Logger
}

// Detect runs the probes concurrently and returns the tools that answered,
// in the order of probes.
func Detect(ctx context.Context, probes []Probe, o Options) []artifact.Tool {
	if o.Timeout == 0 {
		o.Timeout = 10 * time.Second
	}
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	results := make([]*artifact.Tool, len(probes))
	var wg sync.WaitGroup
	for i, p := range probes {
		wg.Go(func() {
			v, err := run(ctx, p, o)
			if err != nil {
				log.Debug("toolchain left out", "tool", p.Name, "reason", err)
				return
			}
			results[i] = &artifact.Tool{Name: p.Name, Version: v, URI: p.URI(v)}
		})
	}
	wg.Wait()
	var out []artifact.Tool
	for _, r := range results {
		if r != nil {
			out = append(out, *r)
		}
	}
	return out
}

type probeError string

func (e probeError) Error() string { return string(e) }

func run(ctx context.Context, p Probe, o Options) (string, error) {
	var path string
	for _, prog := range p.Programs {
		if found, err := execenv.LookPath(prog, o.Env); err == nil {
			path = found
			break
		}
	}
	if path == "" {
		return "", probeError("not on PATH")
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, p.Args...)
	cmd.Dir, cmd.Env = o.Dir, o.Env
	cmd.WaitDelay = time.Second
	out := &capped{max: 4096}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Run(); err != nil {
		return "", err
	}
	v := p.Version(out.String())
	if v == "" {
		return "", probeError("version not understood: " + strings.TrimSpace(out.String()))
	}
	return v, nil
}

// capped keeps the first max bytes written to it and discards the rest.
type capped struct {
	bytes.Buffer
	max int
}

func (c *capped) Write(p []byte) (int, error) {
	if room := c.max - c.Len(); room > 0 {
		c.Buffer.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}
