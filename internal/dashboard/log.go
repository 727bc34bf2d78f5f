package dashboard

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/transparency-dev/formats/log"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/tessera/client"

	"github.com/slipway/actions/internal/cpclient"
	"github.com/slipway/actions/internal/tlog/entry"
	"github.com/slipway/actions/internal/tlog/receipt"
)

func (d *Dashboard) logPages() []page {
	return []page{
		{Pattern: "GET /ui/log", Handler: d.logPage},
		{Pattern: "GET /ui/log/entries", Handler: d.logLookup},
		{Pattern: "GET /ui/log/entries/{index}", Handler: d.logEntry},
	}
}

// checkpoint is the log's latest checkpoint, its signature checked here
// with the log's key.
type checkpoint struct {
	Origin      string
	Size        uint64
	Root        string // base64, as in the note
	Text        string // the signed note as served
	VerifierKey string
	cp          *log.Checkpoint
}

// latestCheckpoint fetches the log's key and latest checkpoint and checks
// the checkpoint's signature with the key: a page never shows a tree the
// log did not sign.
func latestCheckpoint(ctx context.Context, c *cpclient.Client) (*checkpoint, error) {
	key, err := c.Do(ctx, "reading the log's key", "GET", "/api/v1/log/key", nil, nil)
	if err != nil {
		return nil, err
	}
	v, err := receipt.NewVerifier(string(key))
	if err != nil {
		return nil, err
	}
	raw, err := c.Do(ctx, "reading the log's checkpoint", "GET", "/log/checkpoint", nil, nil)
	if err != nil {
		return nil, err
	}
	cp, _, _, err := log.ParseCheckpoint(raw, v.Name(), v)
	if err != nil {
		return nil, &pageError{Status: http.StatusBadGateway, Detail: fmt.Sprintf("the log's checkpoint does not verify with its key %q (%v): do not trust this server's log", v.Name(), err)}
	}
	return &checkpoint{Origin: cp.Origin, Size: cp.Size, Root: base64.StdEncoding.EncodeToString(cp.Hash), Text: string(raw),
		VerifierKey: strings.TrimSpace(string(key)), cp: cp}, nil
}

// logData is the data of log.html.
type logData struct {
	Checkpoint *checkpoint
	// The endpoints logcheck.js reads, on the page's own origin.
	CheckpointURL, KeyURL, ConsistencyURL, TilesURL string
}

// logPage is GET /ui/log: the latest checkpoint, the consistency check run
// in the page (static/js/logcheck.js) and the entry lookup.
func (d *Dashboard) logPage(w http.ResponseWriter, r *http.Request, s *session) error {
	cp, err := latestCheckpoint(r.Context(), d.client(s))
	if err != nil {
		return err
	}
	base := strings.TrimSuffix(d.o.Server.Path, "/")
	return d.render(w, r, s, "log.html", logData{Checkpoint: cp, CheckpointURL: base + "/log/checkpoint", KeyURL: base + "/api/v1/log/key",
		ConsistencyURL: base + "/api/v1/log/consistency", TilesURL: base + "/log/"})
}

// logLookup is the lookup form's GET /ui/log/entries?index=N: the entry's
// page.
func (d *Dashboard) logLookup(w http.ResponseWriter, r *http.Request, s *session) error {
	i, err := parseIndex(r.URL.Query().Get("index"))
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/ui/log/entries/"+strconv.FormatUint(i, 10), http.StatusSeeOther)
	return nil
}

func parseIndex(s string) (uint64, error) {
	i, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return 0, &pageError{Status: http.StatusBadRequest, Detail: fmt.Sprintf("log index %q is not a whole number; give the index of an entry (a release's or a rejection's log index)", s)}
	}
	return i, nil
}

// entryData is the data of log_entry.html.
type entryData struct {
	Index      uint64
	Entry      *entry.Entry
	JSON       string // the canonical entry as logged
	Checkpoint *checkpoint
	Proof      []string // base64 hashes, the leaf's sibling first
}

// logEntry is GET /ui/log/entries/{index}: the entry read from the log's
// tiles, its inclusion proof built from the tiles and checked here
// against the latest signed checkpoint, and its fields.
func (d *Dashboard) logEntry(w http.ResponseWriter, r *http.Request, s *session) error {
	index, err := parseIndex(r.PathValue("index"))
	if err != nil {
		return err
	}
	ctx := r.Context()
	c := d.client(s)
	cp, err := latestCheckpoint(ctx, c)
	if err != nil {
		return err
	}
	if index >= cp.Size {
		return &pageError{Status: http.StatusNotFound, Detail: fmt.Sprintf("the log holds %d entries (indexes 0 to %d); entry %d is not in it", cp.Size, int64(cp.Size)-1, index)}
	}
	raw, hashes, err := includedEntry(ctx, c, cp.cp, index)
	if err != nil {
		return err
	}
	e, err := entry.Parse(raw)
	if err != nil {
		return &pageError{Status: http.StatusBadGateway, Detail: fmt.Sprintf("log entry %d is not an entry of this log's schema: %v", index, err)}
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, raw, "", "  "); err != nil {
		return err
	}
	data := entryData{Index: index, Entry: e, JSON: pretty.String(), Checkpoint: cp, Proof: make([]string, len(hashes))}
	for i, h := range hashes {
		data.Proof[i] = base64.StdEncoding.EncodeToString(h)
	}
	return d.render(w, r, s, "log_entry.html", data)
}

// includedEntry reads entry index from the log's public tiles and checks
// its RFC 6962 inclusion proof (built from the same tiles) against the
// signed checkpoint cp: the entry shown is the one the log committed to.
func includedEntry(ctx context.Context, c *cpclient.Client, cp *log.Checkpoint, index uint64) ([]byte, [][]byte, error) {
	root := *c.Base()
	root.Path = strings.TrimSuffix(root.Path, "/") + "/log/"
	f, err := client.NewHTTPFetcher(&root, c.HTTP())
	if err != nil {
		return nil, nil, err
	}
	op := fmt.Sprintf("reading log entry %d", index)
	bundle, err := client.GetEntryBundle(ctx, f.ReadEntryBundle, index/256, cp.Size)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", op, err)
	}
	if int(index%256) >= len(bundle.Entries) {
		return nil, nil, &pageError{Status: http.StatusBadGateway, Detail: fmt.Sprintf("%s: the log's entry bundle holds %d entries, not entry %d", op, len(bundle.Entries), index)}
	}
	raw := bundle.Entries[index%256]
	pb, err := client.NewProofBuilder(ctx, cp.Size, f.ReadTile)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", op, err)
	}
	hashes, err := pb.InclusionProof(ctx, index)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: building its inclusion proof: %w", op, err)
	}
	if err := proof.VerifyInclusion(rfc6962.DefaultHasher, index, cp.Size, rfc6962.DefaultHasher.HashLeaf(raw), hashes, cp.Hash); err != nil {
		return nil, nil, &pageError{Status: http.StatusBadGateway, Detail: fmt.Sprintf("%s: the entry served is not the one the signed checkpoint commits to (%v): do not trust this server's log", op, err)}
	}
	return raw, hashes, nil
}
