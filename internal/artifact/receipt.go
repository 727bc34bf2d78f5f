package artifact

import (
	"github.com/slipway/actions/internal/digest"
)

// ReceiptExt ends the name of every receipt record: the file a transparency
// log returned when it logged a release (a C2SP tlog-proof, package
// internal/tlog/receipt).
const ReceiptExt = ".receipt"

// ReceiptMediaType is the media type of receipt records: the tlog-proof text.
const ReceiptMediaType = "text/plain; charset=utf-8"

// NewReceipt returns the record of the receipt file at path (slash-separated,
// relative to the workspace, ending in ReceiptExt) with content digest d and
// size, describing the artifact whose digest is subject. A record name
// appears once per role, so a release of several artifacts gets one receipt
// file per artifact, conventionally ARTIFACT.receipt beside it (the same
// receipt text: it proves the whole release).
func NewReceipt(path string, d digest.SHA256, size int64, subject digest.SHA256) Record {
	return Record{Name: path, Path: path, Digest: d, Size: size, MediaType: ReceiptMediaType, Role: RoleReceipt, Describes: subject}
}
