// Package untar unpacks tar streams from outside (a release's tar.gz, an OCI
// image's layers) into a directory, refusing whatever could reach outside it
// or surprise whoever runs what it unpacked.
//
// Every file is created through an os.Root on the directory, so that no
// name, .. element or symbolic link (one in the archive or one already
// there) leads a write outside it. An entry is refused, and the error names
// it, when its name is absolute, holds a .. element or is empty; when it is a
// device, a FIFO or a socket; when it is a hard link to anything but a
// regular file unpacked before it; when it is a symbolic link whose target
// leaves the tree (a release: absolute targets and targets climbing out by ..
// are refused; an OCI layer: absolute targets are kept, since they resolve
// inside the container's root at run time, and writes through them still
// cannot leave the directory); when it would replace an entry of the same
// archive (a release); or when the archive exceeds the size or entry limits.
// Set-user-ID, set-group-ID and sticky bits are dropped; owners are not
// applied.
//
// It must never write outside the directory it is given, never follow a
// symbolic link out of it, never create a device node, and never hold an
// entry's content in memory.
package untar
