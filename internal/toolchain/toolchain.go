package toolchain

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/lazyregexp"
)

// Probe asks one kind of tool for its version.
type Probe struct {
	// Names are the program names this probe understands ("gcc", "g++").
	Names []string
	// Args make the program print its version.
	Args []string
	// Version extracts the version from the program's combined output; ""
	// means not understood.
	Version func(out string) string
	// URI makes the tool's purl-like identifier from its name and version.
	URI func(name, version string) string
}

// versionRE finds the first dotted version number.
var versionRE = lazyregexp.New(`\d+\.\d+(\.\d+)?([-+~.][0-9A-Za-z.+~-]*)?`)

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

var goVersionRE = lazyregexp.New(`\bgo\d+(\.\d+)*\S*`)

// generic is pkg:generic/NAME@VERSION, with NAME as the purl spec wants it.
func generic(name, version string) string {
	return "pkg:generic/" + purlName(name) + "@" + version
}

// purlName maps a program name to the package name of its URI.
func purlName(name string) string {
	switch name {
	case "python3":
		return "python"
	}
	return strings.ToLower(name)
}

// Known are the probes of the common toolchains; Generic asks any other
// program for "--version".
var (
	Known = []Probe{
		{Names: []string{"go"}, Args: []string{"version"},
			Version: func(out string) string { return goVersionRE.FindString(out) },
			URI:     func(_, v string) string { return "pkg:golang/toolchain@" + v }},
		// GCC's drivers, Apple's cc and the MPI wrappers around them print the
		// version last on their first line.
		{Names: []string{"gcc", "g++", "gfortran", "cc", "c++", "cpp", "mpicc", "mpicxx", "mpic++", "mpifort", "mpif90", "mpif77"}, Args: []string{"--version"}, Version: lastField, URI: generic},
		{Names: []string{"java", "javac"}, Args: []string{"-version"}, Version: firstVersion, URI: generic},
	}
	Generic = Probe{Args: []string{"--version"}, Version: firstVersion, URI: generic}
)

// probeFor returns the probe for a program name.
func probeFor(name string) Probe {
	for _, p := range Known {
		for _, n := range p.Names {
			if n == name {
				return p
			}
		}
	}
	return Generic
}

// Declared is a toolchain the build declared, found on its PATH.
type Declared struct {
	// Name is the program's name: as declared, or the base name of a
	// declared path.
	Name string
	// Path is where it was found; Real the same with symbolic links
	// resolved, the file that runs.
	Path, Real string
}

// Options say where and how version probes run.
type Options struct {
	// Dir is the working directory (the workspace: tools such as rustup and
	// go honour toolchain files there).
	Dir string
	// Env is the environment ("NAME=value"), PATH included.
	Env []string
	// Timeout bounds each probe; 10 seconds when zero.
	Timeout time.Duration
}

// Describe asks each declared toolchain for its version and digests its
// executable, concurrently, and returns them in order, with a warning for
// each one whose version could not be read (it is then recorded by its
// digest only). An executable that cannot be read is an error.
func Describe(ctx context.Context, tools []Declared, o Options) ([]artifact.Tool, []string, error) {
	if o.Timeout == 0 {
		o.Timeout = 10 * time.Second
	}
	out := make([]artifact.Tool, len(tools))
	warnings := make([]string, len(tools))
	errs := make([]error, len(tools))
	var wg sync.WaitGroup
	for i, d := range tools {
		wg.Go(func() {
			p := probeFor(d.Name)
			tool := artifact.Tool{Name: d.Name}
			sum, _, err := digest.File(d.Real)
			if err != nil {
				errs[i] = fmt.Errorf("toolchain %q (%s): %w", d.Name, d.Real, err)
				return
			}
			tool.Executable = &artifact.Executable{Path: d.Real, Digest: sum}
			if v, err := version(ctx, d.Path, p, o); err != nil {
				warnings[i] = fmt.Sprintf("toolchain %q (%s): its version could not be read (%v); it is recorded by the digest of %s only", d.Name, d.Path, err, d.Real)
			} else {
				tool.Version, tool.URI = v, p.URI(d.Name, v)
			}
			out[i] = tool
		})
	}
	wg.Wait()
	var warns []string
	for i := range tools {
		if errs[i] != nil {
			return nil, nil, errs[i]
		}
		if warnings[i] != "" {
			warns = append(warns, warnings[i])
		}
	}
	return out, warns, nil
}

type probeError string

func (e probeError) Error() string { return string(e) }

// version runs the probe on the program at path.
func version(ctx context.Context, path string, p Probe, o Options) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, p.Args...)
	cmd.Dir, cmd.Env = o.Dir, o.Env
	cmd.WaitDelay = time.Second
	out := &capped{max: 4096}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Run(); err != nil {
		if ctx.Err() == context.DeadlineExceeded {
			return "", probeError(fmt.Sprintf("%s %s did not answer within %s", filepath.Base(path), strings.Join(p.Args, " "), o.Timeout))
		}
		return "", fmt.Errorf("%s %s: %w", filepath.Base(path), strings.Join(p.Args, " "), err)
	}
	v := p.Version(out.String())
	if v == "" {
		return "", probeError(fmt.Sprintf("no version in the output of %s %s: %q", filepath.Base(path), strings.Join(p.Args, " "), strings.TrimSpace(out.String())))
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
