package execverified

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"

	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/ocibundle"
)

// Container runtimes an image job can run with (Options.Runtime).
const (
	// RuntimeSlurm runs the bundle with srun --container (Slurm's OCI
	// support: oci.conf and runc); the default.
	RuntimeSlurm = "slurm"
	// RuntimePodman runs the bundle's verified root filesystem with
	// podman run --rootfs: no image store, no registry, nothing pulled.
	RuntimePodman = "podman"
)

// Networks a Podman container can have (Options.Network).
const (
	NetworkNone = "none" // a network namespace with loopback only; the default
	NetworkHost = "host" // the node's network, when the job asks for it
)

// podmanCaps are the capabilities a Podman container keeps: those of the
// runc bundle ocibundle writes for srun --container.
const podmanCaps = "CAP_AUDIT_WRITE,CAP_KILL,CAP_NET_BIND_SERVICE"

// podman returns the podman run command for the verified bundle b: its
// root filesystem as the container's (read-only; the bundle is fresh and
// node-local), the job directory mounted read-write at its own path as the
// working directory, the process's arguments and environment as the bundle
// holds them (the image's entrypoint and command or Argv; the image's
// environment) with the job's variables over them, passed by name so that
// no value of the job's environment is on a command line; container root
// is the job's user (rootless Podman maps it; rootful Podman runs as root
// only for a job that is root), no new privileges, the bundle's
// capabilities, no network unless Network is host, and the container kept
// in the job's own cgroup (cgroup) so that Slurm's memory limit and process
// tracking cover it.
func (o *Options) podman(podman string, b *ocibundle.Bundle, cgroup string) (argv, env []string) {
	argv = []string{podman, "run", "--rm", "--rootfs", "--read-only", "--log-driver=none",
		"--network=" + o.network(), "--user=0:0", "--security-opt=no-new-privileges",
		"--cap-drop=all", "--cap-add=" + podmanCaps,
		"--mount=type=bind,source=" + o.JobDir + ",destination=" + o.JobDir, "--workdir=" + o.JobDir}
	if cgroup != "" {
		// conmon stays where podman runs (the job's cgroup); the container
		// goes below the job's cgroup, inside its limits.
		argv = append(argv, "--cgroups=no-conmon", "--cgroup-parent="+cgroup)
	}
	name := func(e string) string { n, _, _ := strings.Cut(e, "="); return n }
	job := map[string]bool{}
	for _, e := range o.Env {
		if n := name(e); n != "PATH" && validEnvName(n) {
			job[n] = true
		}
	}
	// The image's variables (and SLIPWAY_JOB_DIR) with their values: they
	// come from the image's config, not from the job; PATH is always the
	// image's, since the node's means nothing inside.
	for _, e := range b.Env {
		if !job[name(e)] {
			argv = append(argv, "--env="+e)
		}
	}
	names := make([]string, 0, len(job))
	for n := range job {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		argv = append(argv, "--env="+n) // the value from podman's own environment
	}
	argv = append(argv, o.Bundle+"/rootfs")
	argv = append(argv, b.Args...)
	// podman itself runs with the job's environment (its PATH finds
	// conmon and the OCI runtime).
	return argv, slices.Clone(o.Env)
}

func (o *Options) network() string {
	if o.Network == "" {
		return NetworkNone
	}
	return o.Network
}

// validEnvName: a variable podman's --env NAME copies as it is (no "*"
// prefix pattern, nothing that is not a shell name).
func validEnvName(n string) bool {
	if n == "" || n[0] >= '0' && n[0] <= '9' {
		return false
	}
	for _, c := range n {
		if !(c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// validatePodman checks what podman's flags would misread: the job
// directory goes into a --mount list (commas separate its fields), and the
// root filesystem is a positional argument where a ":" starts options.
func (o *Options) validatePodman() error {
	usage := func(format string, a ...any) error { return refuse(exitcode.Usage, CheckUsage, format, a...) }
	switch {
	case o.Runtime != RuntimePodman && o.Network != "":
		return usage("--container-network is for --container-runtime podman (srun --container runs the bundle as oci.conf says); drop it")
	case o.Runtime != RuntimePodman:
		return nil
	case o.Network != NetworkNone && o.Network != NetworkHost && o.Network != "":
		return usage("--container-network %q: give none (the default: loopback only) or host (the node's network)", o.Network)
	case strings.ContainsAny(o.JobDir, ",="):
		return usage("--job-dir %q holds a comma or an equals sign, which podman's --mount would split: choose a workdir without them", o.JobDir)
	case strings.Contains(o.Bundle, ":"):
		return usage("--bundle %q holds a colon, which podman --rootfs reads as options: choose a TMPDIR without one", o.Bundle)
	}
	return nil
}

// jobCgroup is the cgroup this process runs in, as podman's --cgroup-parent
// takes it: on cgroup v1 the memory controller's path (where Slurm's
// task/cgroup puts the job's memory limit), on v2 the unified path; "" when
// the process is in the root cgroup or the file is unreadable (then podman
// places the container as it is configured to).
func jobCgroup(r io.Reader) string {
	var v1, v2 string
	s := bufio.NewScanner(r)
	for s.Scan() {
		id, rest, ok := strings.Cut(s.Text(), ":")
		if !ok {
			continue
		}
		controllers, path, ok := strings.Cut(rest, ":")
		if !ok {
			continue
		}
		switch {
		case id == "0" && controllers == "":
			v2 = path
		case slices.Contains(strings.Split(controllers, ","), "memory"):
			v1 = path
		}
	}
	p := v1
	if p == "" {
		p = v2
	}
	if p == "/" || !strings.HasPrefix(p, "/") || strings.ContainsAny(p, "\n,") {
		return ""
	}
	return p
}

// ownCgroup reads /proc/self/cgroup (jobCgroup).
func ownCgroup() string {
	f, err := os.Open("/proc/self/cgroup")
	if err != nil {
		return ""
	}
	defer f.Close()
	return jobCgroup(f)
}

// runtimeBinary finds the program that runs the container: srun or podman
// on the job's PATH (or the one Options names).
func (o *Options) runtimeBinary() (string, error) {
	if o.Runtime == RuntimePodman {
		path, err := exec.LookPath(o.podmanBin())
		if err != nil {
			return "", refuse(exitcode.Failed, CheckExec, "podman %q: %v; --container-runtime podman runs the verified root filesystem with podman run --rootfs: install Podman on the nodes or put it on the job's PATH", o.podmanBin(), err)
		}
		return path, nil
	}
	path, err := exec.LookPath(o.srun())
	if err != nil {
		return "", refuse(exitcode.Failed, CheckExec, "srun %q: %v; an image job runs its container with srun --container inside the job's allocation: put Slurm's srun on the job's PATH", o.srun(), err)
	}
	return path, nil
}

func (o *Options) podmanBin() string {
	if o.Podman != "" {
		return o.Podman
	}
	return "podman"
}
