package push

import (
	"path"
	"strings"
)

// DefaultFileMediaType is the media type of a file whose kind is unknown.
const DefaultFileMediaType = "application/octet-stream"

// suffixTypes maps file name endings to media types, longest ending first.
// The table is fixed (not the host's mime.types) so that the same files give
// the same manifest, and so the same digest, on every machine.
var suffixTypes = []struct{ suffix, mediaType string }{
	{".sigstore.json", "application/vnd.dev.sigstore.bundle.v0.3+json"},
	{".intoto.jsonl", "application/vnd.in-toto+json"},
	{".cdx.json", "application/vnd.cyclonedx+json"},
	{".spdx.json", "application/spdx+json"},
	{".tar.gz", "application/gzip"},
	{".tar.zst", "application/zstd"},
	{".tar.xz", "application/x-xz"},
	{".json", "application/json"},
	{".tgz", "application/gzip"},
	{".gz", "application/gzip"},
	{".zst", "application/zstd"},
	{".xz", "application/x-xz"},
	{".tar", "application/x-tar"},
	{".zip", "application/zip"},
	{".whl", "application/zip"},
	{".jar", "application/java-archive"},
	{".deb", "application/vnd.debian.binary-package"},
	{".rpm", "application/x-rpm"},
	{".sif", "application/vnd.sylabs.sif.layer.v1.sif"},
	{".asc", "application/pgp-signature"},
	{".pem", "application/x-pem-file"},
	{".txt", "text/plain"},
	{".md", "text/markdown"},
	{".yaml", "application/yaml"},
	{".yml", "application/yaml"},
	{".sh", "text/x-shellscript"},
}

// FileMediaType returns the media type of a file by its name's ending, or
// DefaultFileMediaType.
func FileMediaType(name string) string {
	base := strings.ToLower(path.Base(strings.ReplaceAll(name, `\`, "/")))
	for _, s := range suffixTypes {
		if strings.HasSuffix(base, s.suffix) {
			return s.mediaType
		}
	}
	return DefaultFileMediaType
}
