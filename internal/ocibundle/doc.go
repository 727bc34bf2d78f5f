// Package ocibundle turns an OCI image in a registry, named by digest, or in
// an OCI image layout on disk (BuildLayout: what slipway dispatch stages
// and exec-verified unpacks on the compute node), into an OCI runtime
// bundle (rootfs/ and config.json) for runc, as Slurm's `srun --container
// BUNDLE` and `sbatch --container BUNDLE` run it (oci.conf with rootless
// runc).
//
// Nothing is trusted that was not checked: the reference must carry a
// digest; the manifest (or the index, and the manifest it picks for this
// platform) must hash to it; the config must hash to the manifest's config
// digest; each layer is hashed while it is read (its compressed digest
// against the manifest, its uncompressed digest against the config's
// diff_ids) and unpacked with internal/untar's layer rules (whiteouts, no
// write outside rootfs, no devices). A mismatch found at a layer's end
// removes the whole bundle: a bundle directory that Build returned without
// an error holds only verified content. config.json is what `runc spec
// --rootless` writes, with the image's entrypoint, command, environment and
// working directory, no terminal, and the calling user mapped to root;
// Options.Env adds variables and Options.WorkDir bind-mounts one host
// directory read-write at its own path as the process's working directory
// (with a fresh tmpfs /tmp: the root filesystem is read-only).
//
// What it does not guarantee: the bundle is a directory on a filesystem;
// between Build and the container's start, whoever can write there (the
// user the job runs as, root) can change it. Build it right before the job
// starts, in a fresh directory (Build refuses an existing one).
//
// It must never run anything, never unpack a layer outside rootfs, never
// accept an image by tag, and never keep a bundle whose content failed a
// check.
package ocibundle
