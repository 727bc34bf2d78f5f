package unitfile

import (
	"fmt"
	"path/filepath"
	"strings"
)

const header = "# Written by slipway runner systemd (docs/hpc.md). Install as /etc/systemd/system/%s,\n# then: systemctl daemon-reload && systemctl enable --now %s\n"

func serve(o Options) string {
	var b strings.Builder
	fmt.Fprintf(&b, header, FileName(Serve), FileName(Serve))
	fmt.Fprintf(&b, `[Unit]
Description=Slipway control plane (slipway serve)
Documentation=https://github.com/slipway/actions/blob/main/docs/server.md
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
User=%[1]s
Group=%[1]s
# More flags through their environment variables (SLIPWAY_TLS_CERT, SLIPWAY_DATABASE, …); secrets such as
# SLIPWAY_DATABASE_PASSWORD here too: root-owned, mode 0600, read by systemd before it drops to %[1]s.
EnvironmentFile=-/etc/slipway/serve.env
ExecStart=%[2]s serve --data %[3]s --listen %[4]s --policy %[5]s
Restart=on-failure
RestartSec=2s
# SIGTERM: the server stops taking requests, finishes those it has, and exits.
KillMode=mixed
TimeoutStopSec=60s
LimitNOFILE=65536
UMask=0077
`, o.User, o.Binary, o.Data, o.Listen, o.Policy)
	var writable []string
	if rest, ok := strings.CutPrefix(o.Data, "/var/lib/"); ok {
		fmt.Fprintf(&b, "# The data directory (blobs, database, transparency log and its signing key): owned by %s, mode 0700.\nStateDirectory=%s\nStateDirectoryMode=0700\n", o.User, rest)
	} else {
		fmt.Fprintf(&b, "# The data directory (blobs, database, transparency log and its signing key): create it owned by %s, mode 0700.\n", o.User)
	}
	writable = append(writable, o.Data)
	hardening(&b, writable)
	b.WriteString(`# A Go program: no JIT, no privileged or resource-changing system calls, no process view beyond its own.
MemoryDenyWriteExecute=yes
ProcSubset=pid
SystemCallFilter=@system-service
SystemCallFilter=~@privileged @resources
SystemCallErrorNumber=EPERM
RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX

[Install]
WantedBy=multi-user.target
`)
	return b.String()
}

func runner(o Options) string {
	var b strings.Builder
	fmt.Fprintf(&b, header, FileName(Runner), FileName(Runner))
	fmt.Fprintf(&b, `[Unit]
Description=GitHub Actions runner (labels self-hosted, slurm) that runs slipway dispatch
Documentation=https://github.com/slipway/actions/blob/main/docs/hpc.md
After=network-online.target munge.service
Wants=network-online.target

[Service]
Type=simple
User=%[1]s
Group=%[1]s
WorkingDirectory=%[2]s
# slipway and the Slurm commands (sbatch, squeue, scontrol, scancel).
Environment=PATH=%[3]s
ExecStart=%[4]s
# An ephemeral runner (config.sh --ephemeral) exits after its one job; it is started again only once it is
# registered anew (docs/hpc.md).
Restart=on-failure
RestartSec=5s
# SIGTERM to the runner, which cancels its job (slipway dispatch then cancels the Slurm job); whatever is left
# is killed after the timeout.
KillMode=mixed
TimeoutStopSec=5min
UMask=0027
`, o.User, o.RunnerDir, o.Path, filepath.Join(o.RunnerDir, "run.sh"))
	hardening(&b, []string{o.RunnerDir, o.WorkDir})
	b.WriteString(`# Not set, on purpose: MemoryDenyWriteExecute (the runner and its node actions compile code at run time),
# PrivateUsers (munge authenticates the runner by its real user id), PrivateNetwork (it reaches GitHub, the
# control plane and slurmctld).
SystemCallFilter=@system-service
SystemCallErrorNumber=EPERM
RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX AF_NETLINK

[Install]
WantedBy=multi-user.target
`)
	return b.String()
}
