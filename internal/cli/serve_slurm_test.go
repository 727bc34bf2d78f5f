package cli

import (
	"strings"
	"testing"
)

// TestServeSlurmFlags: --slurm's flags are checked before the server
// starts, each error naming the input and the fix; the JWT comes from
// SLURM_JWT or a file, never a flag's value.
func TestServeSlurmFlags(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := func(jwt string) *Runtime {
		return &Runtime{Getenv: func(k string) string {
			if k == "SLURM_JWT" {
				return jwt
			}
			return ""
		}}
	}
	for _, tc := range []struct {
		name string
		f    slurmFlags
		jwt  string
		want string // "" = a configuration
	}{
		{"off", slurmFlags{}, "", ""},
		{"cli", slurmFlags{slurm: "cli", workdir: dir, slipwayBin: "/usr/bin/slipway", partition: "debug"}, "", ""},
		{"rest with SLURM_JWT", slurmFlags{slurm: "rest", restURL: "http://127.0.0.1:6820", workdir: dir, slipwayBin: "/usr/bin/slipway"}, "eyJ.x.y", ""},
		{"rest with a file", slurmFlags{slurm: "rest", restURL: "http://127.0.0.1:6820", jwtFile: dir + "/jwt", workdir: dir, slipwayBin: "/usr/bin/slipway"}, "", ""},
		{"unknown backend", slurmFlags{slurm: "pbs", workdir: dir, slipwayBin: "/usr/bin/slipway"}, "", `"pbs" is neither cli nor rest`},
		{"workdir without --slurm", slurmFlags{workdir: dir}, "", `"slurm-workdir" needs --slurm`},
		{"relative workdir", slurmFlags{slurm: "cli", workdir: "jobs", slipwayBin: "/usr/bin/slipway"}, "", `"slurm-workdir": "jobs" is not an absolute path`},
		{"missing workdir", slurmFlags{slurm: "cli", workdir: dir + "/nope", slipwayBin: "/usr/bin/slipway"}, "", "is not a directory"},
		{"no slipway path", slurmFlags{slurm: "cli", workdir: dir}, "", `"slipway-path"`},
		{"rest without url", slurmFlags{slurm: "rest", workdir: dir, slipwayBin: "/usr/bin/slipway"}, "eyJsecret.a.b", `"slurm-rest-url" is missing`},
		{"rest without a JWT", slurmFlags{slurm: "rest", restURL: "http://127.0.0.1:6820", workdir: dir, slipwayBin: "/usr/bin/slipway"}, "", "exactly one of SLURM_JWT and --slurm-jwt-file"},
		{"rest with both JWTs", slurmFlags{slurm: "rest", restURL: "http://127.0.0.1:6820", jwtFile: dir + "/jwt", workdir: dir, slipwayBin: "/usr/bin/slipway"}, "eyJsecret.a.b", "exactly one"},
		{"unknown container runtime", slurmFlags{slurm: "cli", workdir: dir, slipwayBin: "/usr/bin/slipway", containerRuntime: "docker"}, "", `"docker" is not a container runtime; give slurm or podman`},
		{"container runtime without --slurm", slurmFlags{containerRuntime: "podman"}, "", `"slurm-container-runtime" needs --slurm`},
		{"cli with a rest url", slurmFlags{slurm: "cli", restURL: "http://127.0.0.1:6820", workdir: dir, slipwayBin: "/usr/bin/slipway"}, "", "are for --slurm rest"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sc, err := tc.f.config(env(tc.jwt))
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("config: %v", err)
			case tc.want == "" && tc.f.slurm != "" && (sc == nil || sc.Backend == nil || sc.WorkDir != dir):
				t.Fatalf("config = %+v", sc)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("config error = %v, want it to contain %q", err, tc.want)
			}
			if err != nil && tc.jwt != "" && strings.Contains(err.Error(), tc.jwt) {
				t.Fatal("the error repeats the JWT")
			}
		})
	}
}
