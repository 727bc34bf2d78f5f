// Package execverified is `slipway exec-verified`, the first command of
// every dispatched job: on the compute node, right before anything runs, it
// hashes the staged artifact again, compares the digest with the one the
// control plane admitted, checks the release's signatures against the trust
// policy when one is given (with internal/verify, the one verifier), unpacks
// a tar.gz into a fresh directory when asked, and only then replaces itself
// with the command (execve: an argv, no shell). A refusal exits with
// exitcode.NotVerified (65), names both digests, and is written to the
// status file for the dispatcher.
//
// What is guaranteed, and what is not (time of check against time of use):
//
//   - --copy DIR and --unpack DIR (what job scripts use): the artifact is
//     read exactly once, through one open file, and every byte read goes both
//     into the hash and into a private copy in DIR, a directory this process
//     creates (it must not exist; mode 0700). The digest and the signatures
//     are those of the copy; the command uses the copy (each argument equal
//     to --file names it) or the files unpacked from it (the unpacking reads
//     the copy, an unlinked file nobody else can open, after the checks
//     passed). Replacing or rewriting the staged file at any moment after
//     the read began changes nothing that runs. Not guaranteed against: the
//     job's own user or root, who can change DIR itself.
//   - Neither (the minimal form): the file is opened once and hashed
//     through that descriptor, which stays open and is passed to the command;
//     each argument equal to --file becomes /dev/fd/N, the checked file even
//     if the path is renamed or replaced afterwards. A change during the read
//     (size, modification or change time) is refused. Not guaranteed
//     against: a writer of the file itself who rewrites it in place after
//     the read: use --copy.
//   - Arguments equal to --file are replaced only when they are exactly that
//     string; a command that builds the path itself (or opens another name
//     of the same file) reads the shared filesystem, unchecked.
//
// It must never run the command (or unpack anything) before every check
// passed, never run it through a shell, never read the artifact twice for
// the checks, never write outside DIR and the status file, and never follow
// a link out of DIR while unpacking (internal/untar).
package execverified
