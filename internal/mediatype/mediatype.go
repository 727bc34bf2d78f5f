package mediatype

import (
	"bytes"
	"encoding/binary"
	"net/http"
	"strings"
)

// HeadSize is how many leading bytes Detect looks at; callers keep at most
// this many from their read.
const HeadSize = 4096

// Media types slipway names itself.
const (
	OctetStream     = "application/octet-stream"
	Gzip            = "application/gzip"
	JSON            = "application/json"
	Zip             = "application/zip"
	Tar             = "application/x-tar"
	OCIManifest     = "application/vnd.oci.image.manifest.v1+json"
	OCIIndex        = "application/vnd.oci.image.index.v1+json"
	OCILayoutHeader = "application/vnd.oci.layout.header.v1+json"
	Executable      = "application/x-executable"
	PIEExecutable   = "application/x-pie-executable"
	SharedLib       = "application/x-sharedlib"
	Object          = "application/x-object"
	CoreDump        = "application/x-coredump"
)

// bySuffix maps file name endings to media types; longer endings come
// first so that ".cdx.json" wins over ".json".
var bySuffix = []struct{ suffix, mediaType string }{
	{".cdx.json", "application/vnd.cyclonedx+json"},
	{".spdx.json", "application/spdx+json"},
	{".sigstore.json", "application/vnd.dev.sigstore.bundle.v0.3+json"},
	{".intoto.jsonl", "application/vnd.in-toto+json"},
	{".tar.gz", Gzip},
	{".tar.xz", "application/x-xz"},
	{".tar.zst", "application/zstd"},
	{".tar.bz2", "application/x-bzip2"},
	{".tgz", Gzip},
	{".gz", Gzip},
	{".txz", "application/x-xz"},
	{".xz", "application/x-xz"},
	{".zst", "application/zstd"},
	{".bz2", "application/x-bzip2"},
	{".tar", Tar},
	{".zip", Zip},
	{".whl", Zip},
	{".jar", "application/java-archive"},
	{".json", JSON},
	{".yaml", "application/yaml"},
	{".yml", "application/yaml"},
	{".txt", "text/plain; charset=utf-8"},
	{".sha256", "text/plain; charset=utf-8"},
	{".md", "text/markdown; charset=utf-8"},
	{".asc", "application/pgp-signature"},
	{".pem", "application/x-pem-file"},
	{".deb", "application/vnd.debian.binary-package"},
	{".rpm", "application/x-rpm"},
	{".sif", "application/vnd.sylabs.sif.layer.v1.sif"},
	{".wasm", "application/wasm"},
	{".exe", "application/vnd.microsoft.portable-executable"},
	{".pdf", "application/pdf"},
}

// byMagic maps leading bytes to media types, for names without a known ending.
var byMagic = []struct {
	offset    int
	magic     string
	mediaType string
}{
	{0, "\x1f\x8b", Gzip},
	{0, "PK\x03\x04", Zip},
	{0, "\xfd7zXZ\x00", "application/x-xz"},
	{0, "\x28\xb5\x2f\xfd", "application/zstd"},
	{0, "BZh", "application/x-bzip2"},
	{0, "\x00asm", "application/wasm"},
	{0, "\xcf\xfa\xed\xfe", "application/x-mach-binary"},
	{0, "\xce\xfa\xed\xfe", "application/x-mach-binary"},
	{0, "MZ", "application/vnd.microsoft.portable-executable"},
	{0, "#!", "text/x-shellscript"},
	{0, "%PDF-", "application/pdf"},
	{32, "SIF_MAGIC", "application/vnd.sylabs.sif.layer.v1.sif"},
	{257, "ustar", Tar},
}

// Detect returns the media type of a file named name whose content starts
// with head (up to HeadSize bytes; fewer when the file is shorter). A known
// file name ending decides first, then ELF headers and other magic numbers,
// then the standard library's content sniffing; application/octet-stream
// when nothing matches.
func Detect(name string, head []byte) string {
	lower := strings.ToLower(name)
	for _, s := range bySuffix {
		if strings.HasSuffix(lower, s.suffix) {
			return s.mediaType
		}
	}
	if t, ok := elfType(head); ok {
		return t
	}
	for _, m := range byMagic {
		if len(head) >= m.offset+len(m.magic) && string(head[m.offset:m.offset+len(m.magic)]) == m.magic {
			return m.mediaType
		}
	}
	if len(head) == 0 {
		return OctetStream
	}
	return http.DetectContentType(head)
}

// ELF header fields (System V ABI).
const (
	elfTypeRel  = 1
	elfTypeExec = 2
	elfTypeDyn  = 3
	elfTypeCore = 4
	ptInterp    = 3
)

// elfType names an ELF file by its type: relocatable objects, executables,
// position-independent executables (a shared object with an interpreter)
// and shared libraries, the names libmagic uses.
func elfType(h []byte) (string, bool) {
	if len(h) < 20 || !bytes.HasPrefix(h, []byte("\x7fELF")) {
		return "", false
	}
	var bo binary.ByteOrder
	switch h[5] {
	case 1:
		bo = binary.LittleEndian
	case 2:
		bo = binary.BigEndian
	default:
		return OctetStream, true
	}
	switch bo.Uint16(h[16:18]) {
	case elfTypeRel:
		return Object, true
	case elfTypeExec:
		return Executable, true
	case elfTypeCore:
		return CoreDump, true
	case elfTypeDyn:
		if hasInterp(h, bo) {
			return PIEExecutable, true
		}
		return SharedLib, true
	}
	return OctetStream, true
}

// hasInterp reports whether the program headers within h include PT_INTERP.
// Program headers that lie beyond h count as absent.
func hasInterp(h []byte, bo binary.ByteOrder) bool {
	var phoff uint64
	var phentsize, phnum int
	switch h[4] {
	case 1: // 32-bit
		if len(h) < 46 {
			return false
		}
		phoff = uint64(bo.Uint32(h[28:32]))
		phentsize, phnum = int(bo.Uint16(h[42:44])), int(bo.Uint16(h[44:46]))
	case 2: // 64-bit
		if len(h) < 58 {
			return false
		}
		phoff = bo.Uint64(h[32:40])
		phentsize, phnum = int(bo.Uint16(h[54:56])), int(bo.Uint16(h[56:58]))
	default:
		return false
	}
	if phentsize < 4 || phoff >= uint64(len(h)) {
		return false
	}
	for i := range phnum {
		off := phoff + uint64(i)*uint64(phentsize)
		if off+4 > uint64(len(h)) {
			return false
		}
		if bo.Uint32(h[off:off+4]) == ptInterp {
			return true
		}
	}
	return false
}
