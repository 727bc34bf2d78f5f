package ocibundle

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// The runtime spec's parts that a rootless bundle uses (runtime-spec
// config.md); the values are those of `runc spec --rootless` (runc 1.1).
type (
	spec struct {
		OCIVersion string  `json:"ociVersion"`
		Process    process `json:"process"`
		Root       struct {
			Path     string `json:"path"`
			Readonly bool   `json:"readonly"`
		} `json:"root"`
		Hostname string  `json:"hostname"`
		Mounts   []mount `json:"mounts"`
		Linux    linux   `json:"linux"`
	}
	process struct {
		Terminal bool `json:"terminal"`
		User     struct {
			UID int `json:"uid"`
			GID int `json:"gid"`
		} `json:"user"`
		Args            []string            `json:"args"`
		Env             []string            `json:"env"`
		Cwd             string              `json:"cwd"`
		Capabilities    map[string][]string `json:"capabilities"`
		Rlimits         []rlimit            `json:"rlimits"`
		NoNewPrivileges bool                `json:"noNewPrivileges"`
	}
	rlimit struct {
		Type string `json:"type"`
		Hard uint64 `json:"hard"`
		Soft uint64 `json:"soft"`
	}
	mount struct {
		Destination string   `json:"destination"`
		Type        string   `json:"type"`
		Source      string   `json:"source"`
		Options     []string `json:"options,omitempty"`
	}
	idMap struct {
		ContainerID int `json:"containerID"`
		HostID      int `json:"hostID"`
		Size        int `json:"size"`
	}
	linux struct {
		UIDMappings   []idMap             `json:"uidMappings"`
		GIDMappings   []idMap             `json:"gidMappings"`
		Namespaces    []map[string]string `json:"namespaces"`
		MaskedPaths   []string            `json:"maskedPaths"`
		ReadonlyPaths []string            `json:"readonlyPaths"`
	}
)

const defaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// runtimeSpec writes config.json for the image config c and returns the
// process's arguments.
func runtimeSpec(c v1.Config, o Options) ([]byte, []string, error) {
	args := o.Args
	if len(args) == 0 {
		args = append(slices.Clone(c.Entrypoint), c.Cmd...)
	}
	if len(args) == 0 {
		return nil, nil, refuse("config", "the image has neither an entrypoint nor a command, and no arguments were given")
	}
	uid, gid := os.Getuid(), os.Getgid()
	if o.UID != nil {
		uid = *o.UID
	}
	if o.GID != nil {
		gid = *o.GID
	}
	if uid < 0 || gid < 0 {
		return nil, nil, errors.New("no user to map into the container")
	}
	env := MergeEnv(c.Env, o.Env)
	cwd := c.WorkingDir
	if cwd == "" {
		cwd = "/"
	}
	if o.WorkDir != "" {
		if !filepath.IsAbs(o.WorkDir) || filepath.Clean(o.WorkDir) != o.WorkDir || o.WorkDir == "/" {
			return nil, nil, fmt.Errorf("work directory %q: give a clean absolute path other than /", o.WorkDir)
		}
		cwd = o.WorkDir
	}
	caps := []string{"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"}
	s := spec{
		OCIVersion: "1.0.2-dev",
		Process: process{
			Args: args, Env: env, Cwd: cwd,
			Capabilities:    map[string][]string{"bounding": caps, "effective": caps, "permitted": caps, "ambient": caps},
			Rlimits:         []rlimit{{Type: "RLIMIT_NOFILE", Hard: 1024, Soft: 1024}},
			NoNewPrivileges: true,
		},
		Hostname: "runc",
		Mounts: []mount{
			{"/proc", "proc", "proc", nil},
			{"/dev", "tmpfs", "tmpfs", []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
			{"/dev/pts", "devpts", "devpts", []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}},
			{"/dev/shm", "tmpfs", "shm", []string{"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
			{"/dev/mqueue", "mqueue", "mqueue", []string{"nosuid", "noexec", "nodev"}},
			{"/sys", "none", "/sys", []string{"rbind", "nosuid", "noexec", "nodev", "ro"}},
			{"/sys/fs/cgroup", "cgroup", "cgroup", []string{"nosuid", "noexec", "nodev", "relatime", "ro"}},
		},
		Linux: linux{
			UIDMappings: []idMap{{ContainerID: 0, HostID: uid, Size: 1}},
			GIDMappings: []idMap{{ContainerID: 0, HostID: gid, Size: 1}},
			Namespaces:  []map[string]string{{"type": "pid"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}, {"type": "user"}},
			MaskedPaths: []string{"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
				"/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"},
			ReadonlyPaths: []string{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"},
		},
	}
	if o.WorkDir != "" {
		s.Mounts = append(s.Mounts,
			mount{"/tmp", "tmpfs", "tmpfs", []string{"nosuid", "nodev", "mode=1777"}},
			mount{o.WorkDir, "bind", o.WorkDir, []string{"rbind", "rw", "nosuid", "nodev"}})
	}
	s.Root.Path, s.Root.Readonly = "rootfs", true
	b, err := json.MarshalIndent(s, "", "\t")
	return b, args, err
}

// MergeEnv is the image's environment with extra (NAME=VALUE) set after
// it, an extra variable replacing the image's of the same name, and PATH
// defaulted when neither sets it.
func MergeEnv(image, extra []string) []string {
	name := func(e string) string { n, _, _ := strings.Cut(e, "="); return n }
	var env []string
	for _, e := range image {
		if !slices.ContainsFunc(extra, func(x string) bool { return name(x) == name(e) }) {
			env = append(env, e)
		}
	}
	env = append(env, extra...)
	if !slices.ContainsFunc(env, func(e string) bool { return name(e) == "PATH" }) {
		env = append([]string{defaultPath}, env...)
	}
	return env
}

// PathOf is the value of PATH in env ("" when unset).
func PathOf(env []string) string {
	for _, e := range env {
		if v, ok := strings.CutPrefix(e, "PATH="); ok {
			return v
		}
	}
	return ""
}
