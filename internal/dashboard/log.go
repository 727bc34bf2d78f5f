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
	"golang.org/x/mod/sumdb/note"

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
}

// logKey fetches the log's note verifier key.
func logKey(ctx context.Context, c *cpclient.Client) (note.Verifier, string, error) {
	key, err := c.Do(ctx, "reading the log's key", "GET", "/api/v1/log/key", nil, nil)
	if err != nil {
		return nil, "", err
	}
	v, err := receipt.NewVerifier(string(key))
	if err != nil {
		return nil, "", err
	}
	return v, strings.TrimSpace(string(key)), nil
}

// latestCheckpoint fetches the log's key and latest checkpoint and checks
// the checkpoint's signature with the key: a page never shows a tree the
// log did not sign.
func latestCheckpoint(ctx context.Context, c *cpclient.Client) (*checkpoint, error) {
	v, key, err := logKey(ctx, c)
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
	return checkpointOf(cp, raw, key), nil
}

func checkpointOf(cp *log.Checkpoint, raw []byte, key string) *checkpoint {
	return &checkpoint{Origin: cp.Origin, Size: cp.Size, Root: base64.StdEncoding.EncodeToString(cp.Hash), Text: string(raw), VerifierKey: key}
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

// logEntry is GET /ui/log/entries/{index}: the entry as GET
// /api/v1/log/entries/{index} answers it, its receipt (inclusion proof
// and the checkpoint it leads to) checked here with the log's key, and
// its fields.
func (d *Dashboard) logEntry(w http.ResponseWriter, r *http.Request, s *session) error {
	index, err := parseIndex(r.PathValue("index"))
	if err != nil {
		return err
	}
	ctx := r.Context()
	c := d.client(s)
	v, key, err := logKey(ctx, c)
	if err != nil {
		return err
	}
	raw, rc, err := includedEntry(ctx, c, v, index)
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
	cp, _ := rc.Tree(v) // checked by includedEntry
	data := entryData{Index: index, Entry: e, JSON: pretty.String(), Checkpoint: checkpointOf(cp, rc.Checkpoint, key), Proof: make([]string, len(rc.Hashes))}
	for i, h := range rc.Hashes {
		data.Proof[i] = base64.StdEncoding.EncodeToString(h[:])
	}
	return d.render(w, r, s, "log_entry.html", data)
}

// includedEntry reads log entry index (GET /api/v1/log/entries/{index})
// and checks its receipt with the log's key v (internal/tlog/receipt: the
// checkpoint's signature, and the RFC 6962 inclusion proof from the
// entry's bytes to the checkpoint's root): the entry shown is the one the
// log's signed tree commits to.
func includedEntry(ctx context.Context, c *cpclient.Client, v note.Verifier, index uint64) ([]byte, *receipt.Receipt, error) {
	op := fmt.Sprintf("reading log entry %d", index)
	var ans struct {
		Index   uint64 `json:"index"`
		Receipt string `json:"receipt"`
	}
	if err := c.JSON(ctx, op, "GET", "/api/v1/log/entries/"+strconv.FormatUint(index, 10), nil, nil, &ans); err != nil {
		return nil, nil, err
	}
	rc, err := receipt.Parse([]byte(ans.Receipt))
	if err == nil && (rc.Index != index || ans.Index != index) {
		err = fmt.Errorf("the answer is for entry %d", rc.Index)
	}
	if err == nil {
		err = receipt.Verify(rc, nil, v)
	}
	if err != nil {
		return nil, nil, &pageError{Status: http.StatusBadGateway, Detail: fmt.Sprintf("%s: the log's answer does not prove the entry (%v): do not trust this server's log", op, err)}
	}
	return rc.Entry, rc, nil
}
