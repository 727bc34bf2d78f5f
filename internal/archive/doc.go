// Package archive writes deterministic tar and gzip streams: the same files
// in give the same bytes out on every run and machine. Entries are sorted,
// owners are zeroed, times are one fixed moment (SOURCE_DATE_EPOCH), modes are
// 0644 or 0755 (1777 for a sticky directory such as /tmp), symbolic links keep
// their target as given, and gzip carries no name, no time and a fixed level.
//
// It must never hold a file in memory (content streams through the writer
// the caller gets) and never take anything from the environment: not the
// clock, not the file's owner, mode bits or times, not the umask.
package archive
