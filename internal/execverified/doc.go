// Package execverified is `slipway exec-verified`, the first command of
// every dispatched job: on the compute node, right before anything runs, it
// hashes the staged artifact again, compares the digest with the one the
// control plane admitted, checks the release's signatures against the trust
// policy when one is given (with internal/verify, the one verifier), unpacks
// a tar.gz into a fresh directory when asked (in the same pass as the
// hash), and only once every check passed replaces itself with the command
// (execve: an argv, no shell). A refusal exits with
// exitcode.NotVerified (65), names both digests, and is written to the
// status file for the dispatcher.
//
// What is guaranteed, and what is not (time of check against time of use):
// the artifact is read exactly once, through one open file, and every byte
// read goes into the hash (and verify's signature checks); what the
// command uses is what that read saw. Replacing the staged file's name at
// any moment after it was opened changes nothing that runs. Who can change
// the bytes of the open file itself differs by mode:
//
//   - --in-place DIR (what slipway dispatch uses for a file): no copy. The
//     staged file is opened by walking from --staging-root down without
//     following links, and fstat on each open directory and on the file
//     must show this user or root as owner, no write bit for group or
//     others, and, for the file, a regular file with one link: then no
//     other user can have it open for writing, write it, or swap what its
//     name leads to. It is hashed through that descriptor, which the
//     command inherits (not close-on-exec, rewound): each argument equal
//     to --file becomes /dev/fd/N, and a command that is --file is exec'd
//     through it (/dev/fd/N is the descriptor's own file, no path lookup;
//     a #! script's interpreter is handed /dev/fd/N). DIR is created (mode
//     0700; it must not exist) after the checks, DIR/<name of --file> is a
//     symbolic link to /dev/fd/N (so "./name" works for the command and
//     what inherits its descriptors), and the command runs there. Not guaranteed against: this user and root, who can rewrite
//     the file (they can run anything as the job anyway).
//   - Neither flag: the copy is an in-memory file (memfd), sealed against
//     any change once the checks pass; the command inherits a read-only
//     descriptor of it, and each argument equal to --file becomes /dev/fd/N.
//     Nobody can open it by a name, and it is gone when the command ends. It
//     takes the artifact's size in memory while the command runs.
//   - --copy DIR: the copy is DIR/<name of --file>, read-only, in a directory
//     this process creates (it must not exist; mode 0700); each argument
//     equal to --file names it. It costs a write of the artifact to DIR's
//     filesystem. Not guaranteed against: the job's own user or root, who
//     can change DIR.
//   - --unpack DIR: the tar.gz is unpacked into DIR (created as for --copy)
//     while it is hashed, in the same streaming pass; the command runs in
//     DIR only once every check passed, and on any refusal DIR is removed
//     before exec-verified exits.
//   - --image-layout LAYOUT --bundle B --job-dir D: --file is an OCI image
//     manifest (or index) in LAYOUT, checked as any file (digest, and
//     signatures with a policy); its checked in-memory copy, not the file,
//     is then parsed, and the image's config and each layer are read from
//     LAYOUT, hashed again (compressed digest and diff_id) while they are
//     unpacked into a fresh root filesystem in B (ocibundle.BuildLayout).
//     A blob that is not the manifest's refuses the job (check "layer",
//     naming both digests) and removes B and D. Then it execs srun
//     --container=B -- with the command (none given: the image's
//     entrypoint and command): Slurm (22.05 checked) runs it in the
//     container inside the job's allocation, with the job's environment
//     (the image's PATH), in D mounted read-write at its own path. Not
//     guaranteed against: the job's own user or root changing B between the
//     unpacking and the container's start.
//   - Arguments equal to --file are replaced only when they are exactly that
//     string; a command that builds the path itself (or opens another name
//     of the same file) reads the shared filesystem, unchecked.
//
// It must never run the command before every check passed, never leave an
// unpacked tree behind after a refusal, never run it through a shell, never
// read the artifact twice for the checks, never write outside DIR and the
// status file, never follow a link below the staging root in place, and
// never follow a link out of DIR while unpacking (internal/untar).
package execverified
