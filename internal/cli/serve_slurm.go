package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/slipway/actions/internal/input"
	"github.com/slipway/actions/internal/regfile"
	"github.com/slipway/actions/internal/server"
	"github.com/slipway/actions/internal/slurm"
	slurmcli "github.com/slipway/actions/internal/slurm/cli"
	"github.com/slipway/actions/internal/slurm/rest"
)

// slurmFlags let slipway serve submit admitted releases to Slurm itself
// (POST /api/v1/releases/{id}/dispatch). The REST backend's JWT comes from
// SLURM_JWT or --slurm-jwt-file, never from a flag's value.
type slurmFlags struct {
	slurm, restURL, restUser, jwtFile       string
	workdir, partition, cluster, slipwayBin string
	nodePolicy, containerRuntime            string
}

func (f *slurmFlags) inputs() []input.Input {
	return []input.Input{
		input.String(&f.slurm, input.Spec{Name: "slurm", Env: "SLIPWAY_SLURM",
			Description: "Submit admitted releases to Slurm on request (POST /api/v1/releases/{id}/dispatch, scope dispatch) through its commands (cli) or slurmrestd (rest); unset: the server submits nothing."}),
		input.String(&f.restURL, input.Spec{Name: "slurm-rest-url", Env: "SLIPWAY_SLURM_REST_URL",
			Description: "slurmrestd's base URL for --slurm rest (http://127.0.0.1:6820); its JWT comes from SLURM_JWT or slurm-jwt-file."}),
		input.String(&f.restUser, input.Spec{Name: "slurm-rest-user", Env: "SLIPWAY_SLURM_REST_USER",
			Description: "The Slurm user the JWT was issued for (X-SLURM-USER-NAME); default the user slipway serve runs as."}),
		input.String(&f.jwtFile, input.Spec{Name: "slurm-jwt-file", Env: "SLIPWAY_SLURM_JWT_FILE",
			Description: "A file holding slurmrestd's JWT (scontrol token), read at every request so that it can be renewed in place; instead of SLURM_JWT."}),
		input.String(&f.workdir, input.Spec{Name: "slurm-workdir", Env: "SLIPWAY_SLURM_WORKDIR",
			Description: "The directory on the shared filesystem the server's jobs run in (absolute): each dispatch stages its release in a fresh directory under it."}),
		input.String(&f.partition, input.Spec{Name: "slurm-partition", Env: "SLIPWAY_SLURM_PARTITION",
			Description: "The partition of dispatch requests that name none; the policy's dispatch rules must allow it."}),
		input.String(&f.cluster, input.Spec{Name: "slurm-cluster", Env: "SLIPWAY_SLURM_CLUSTER",
			Description: "The Slurm cluster the server's jobs go to (sbatch --clusters); unset: the local one."}),
		input.String(&f.slipwayBin, input.Spec{Name: "slipway-path", Env: "SLIPWAY_SLIPWAY_PATH",
			Description: "The slipway binary on the compute nodes (absolute): each job's first command is its exec-verified."}),
		input.String(&f.containerRuntime, input.Spec{Name: "slurm-container-runtime", Env: "SLIPWAY_SLURM_CONTAINER_RUNTIME",
			Description: "How the nodes run image releases: slurm (srun --container, with the cluster's oci.conf) or podman (podman run --rootfs of the root filesystem exec-verified checked, no network); unset: slurm."}),
		input.String(&f.nodePolicy, input.Spec{Name: "slurm-node-policy", Env: "SLIPWAY_SLURM_NODE_POLICY",
			Description: "The trust policy on the compute nodes (absolute) that exec-verified checks the release's signatures with; unset: the admitted digest only."}),
	}
}

// config checks the flags and returns the server's Slurm configuration;
// nil without --slurm.
func (f *slurmFlags) config(rt *Runtime) (*server.SlurmConfig, error) {
	if f.slurm == "" {
		for name, v := range map[string]string{"slurm-rest-url": f.restURL, "slurm-workdir": f.workdir, "slipway-path": f.slipwayBin, "slurm-jwt-file": f.jwtFile,
			"slurm-container-runtime": f.containerRuntime} {
			if v != "" {
				return nil, fmt.Errorf("input %q needs --slurm cli or --slurm rest; give it, or drop %q", name, name)
			}
		}
		return nil, nil
	}
	for name, v := range map[string]string{"slurm-workdir": f.workdir, "slipway-path": f.slipwayBin} {
		if v == "" || !filepath.IsAbs(v) {
			return nil, fmt.Errorf("input %q: %q is not an absolute path; give the %s as the compute nodes see it", name, v, map[string]string{"slurm-workdir": "shared directory jobs run in", "slipway-path": "slipway binary"}[name])
		}
	}
	if f.nodePolicy != "" && !filepath.IsAbs(f.nodePolicy) {
		return nil, fmt.Errorf("input \"slurm-node-policy\": %q is not an absolute path; give the policy as the compute nodes see it", f.nodePolicy)
	}
	if st, err := os.Stat(f.workdir); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("input \"slurm-workdir\": %q is not a directory (%v); create it on the shared filesystem, writable by slipway serve and readable by the jobs", f.workdir, err)
	}
	switch f.containerRuntime {
	case "", "slurm", "podman":
	default:
		return nil, fmt.Errorf("input \"slurm-container-runtime\": %q is not a container runtime; give slurm or podman", f.containerRuntime)
	}
	sc := &server.SlurmConfig{WorkDir: f.workdir, Partition: f.partition, Cluster: f.cluster, Slipway: f.slipwayBin, NodePolicy: f.nodePolicy,
		ContainerRuntime: f.containerRuntime}
	var b slurm.Backend
	switch f.slurm {
	case "cli":
		if f.restURL != "" || f.jwtFile != "" {
			return nil, errors.New("inputs \"slurm-rest-url\" and \"slurm-jwt-file\" are for --slurm rest; drop them with --slurm cli")
		}
		b = slurmcli.New(slurmcli.Options{Cluster: f.cluster, Getenv: rt.Getenv})
	case "rest":
		if f.restURL == "" {
			return nil, errors.New("input \"slurm-rest-url\" is missing; give slurmrestd's URL (http://127.0.0.1:6820) with --slurm rest")
		}
		if (rt.Getenv("SLURM_JWT") == "") == (f.jwtFile == "") {
			return nil, errors.New("--slurm rest needs slurmrestd's JWT from exactly one of SLURM_JWT and --slurm-jwt-file (never a flag's value); make one with scontrol token")
		}
		user := f.restUser
		if user == "" {
			user = rt.Getenv("USER")
		}
		token := func(context.Context) (string, error) { return rt.Getenv("SLURM_JWT"), nil }
		if path := f.jwtFile; path != "" {
			token = func(context.Context) (string, error) {
				b, err := regfile.ReadAll(path, 64<<10)
				if err != nil {
					return "", fmt.Errorf("reading the Slurm JWT from --slurm-jwt-file: %w", err)
				}
				return strings.TrimSpace(string(b)), nil
			}
		}
		b = rest.New(rest.Options{URL: f.restURL, User: user, Token: token})
	default:
		return nil, fmt.Errorf("input \"slurm\": %q is neither cli nor rest; give --slurm cli (Slurm's commands) or --slurm rest (slurmrestd)", f.slurm)
	}
	sc.Backend = b
	return sc, nil
}
