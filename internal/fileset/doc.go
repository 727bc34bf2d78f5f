// Package fileset turns the artifact globs a user gives into the sorted set
// of files they name inside one directory tree, the workspace.
//
// Patterns use doublestar syntax ("**" crosses directories), are relative to
// the workspace, and are applied in order: a pattern starting with "!"
// excludes what earlier patterns included, and the last pattern that matches
// a path decides, as in actions/upload-artifact. A matched directory stands
// for every file under it. Searching never descends into symbolic links to
// directories or into ".git"; a matched symbolic link is resolved.
//
// It must never return a path outside the workspace: patterns that leave it
// ("../x", absolute paths elsewhere) are refused, and so is a matched
// symbolic link that points outside it. It reads directory entries and link
// targets only, never file contents.
package fileset
