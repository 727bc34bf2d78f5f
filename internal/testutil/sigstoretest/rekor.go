package sigstoretest

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/cyberphone/json-canonicalization/go/src/webpki.org/jsoncanonicalizer"
	"github.com/digitorus/timestamp"
	"github.com/go-openapi/runtime"
	"github.com/go-openapi/swag/conv"
	"github.com/sigstore/rekor/pkg/generated/models"
	"github.com/sigstore/rekor/pkg/types"
	"github.com/sigstore/rekor/pkg/util"
	"github.com/sigstore/sigstore-go/pkg/tlog"
	"github.com/sigstore/sigstore/pkg/signature"

	// The entry kinds sigstore-go's Rekor client proposes.
	_ "github.com/sigstore/rekor/pkg/types/dsse/v0.0.1"
	_ "github.com/sigstore/rekor/pkg/types/hashedrekord/v0.0.1"
)

func rekorError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"code": status, "message": msg})
}

// rekor adds a proposed entry to the log, as Rekor v1's createLogEntry.
func (s *Sigstore) rekor(w http.ResponseWriter, r *http.Request) {
	pe, err := models.UnmarshalProposedEntry(http.MaxBytesReader(w, r.Body, 1<<20), runtime.JSONConsumer())
	if err != nil {
		rekorError(w, http.StatusBadRequest, "unmarshalling proposed entry: "+err.Error())
		return
	}
	uuid, entry, err := s.appendEntry(pe, s.Now())
	var bad badEntry
	switch {
	case errors.As(err, &bad):
		rekorError(w, http.StatusBadRequest, err.Error())
		return
	case err != nil:
		rekorError(w, http.StatusInternalServerError, err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("ETag", uuid)
	w.Header().Set("Location", "/api/v1/log/entries/"+uuid)
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(models.LogEntry{uuid: entry})
}

// badEntry is a proposed entry Rekor refuses (400).
type badEntry struct{ error }

// appendEntry appends a proposed entry to the log's Merkle tree, integrated
// at time at, and returns its UUID and the entry as Rekor v1 answers it:
// the canonicalized body, a signed entry timestamp and an inclusion proof
// with a signed checkpoint.
func (s *Sigstore) appendEntry(pe models.ProposedEntry, at time.Time) (string, models.LogEntryAnon, error) {
	ctx := context.Background()
	impl, err := types.CreateVersionedEntry(pe)
	if err != nil {
		return "", models.LogEntryAnon{}, badEntry{err}
	}
	body, err := types.CanonicalizeEntry(ctx, impl)
	if err != nil {
		return "", models.LogEntryAnon{}, badEntry{fmt.Errorf("canonicalizing: %w", err)}
	}
	s.mu.Lock()
	index := s.tree.Size()
	s.tree.AppendData(body)
	size := s.tree.Size()
	rootHash := s.tree.Hash()
	proof, err := s.tree.InclusionProof(index, size)
	s.mu.Unlock()
	if err != nil {
		return "", models.LogEntryAnon{}, err
	}
	id := hex.EncodeToString(logID(s.rekorKey.Public()))
	payload, _ := json.Marshal(tlog.RekorPayload{Body: base64.StdEncoding.EncodeToString(body), IntegratedTime: at.Unix(), LogIndex: int64(index), LogID: id})
	canonical, err := jsoncanonicalizer.Transform(payload)
	if err != nil {
		return "", models.LogEntryAnon{}, err
	}
	sum := sha256.Sum256(canonical)
	set, err := s.rekorKey.Sign(rand.Reader, sum[:], crypto.SHA256)
	if err != nil {
		return "", models.LogEntryAnon{}, err
	}
	signer, err := signature.LoadECDSASignerVerifier(s.rekorKey, crypto.SHA256)
	if err != nil {
		return "", models.LogEntryAnon{}, err
	}
	checkpoint, err := util.CreateAndSignCheckpoint(ctx, "rekor.sigstoretest", 1, size, rootHash, signer)
	if err != nil {
		return "", models.LogEntryAnon{}, err
	}
	hashes := []string{}
	for _, h := range proof {
		hashes = append(hashes, hex.EncodeToString(h))
	}
	leaf := sha256.Sum256(append([]byte{0}, body...))
	s.Entries.Add(1)
	return hex.EncodeToString(leaf[:]), models.LogEntryAnon{
		Body:           base64.StdEncoding.EncodeToString(body),
		IntegratedTime: conv.Pointer(at.Unix()),
		LogID:          conv.Pointer(id),
		LogIndex:       conv.Pointer(int64(index)),
		Verification: &models.LogEntryAnonVerification{
			SignedEntryTimestamp: set,
			InclusionProof: &models.InclusionProof{
				Checkpoint: conv.Pointer(string(checkpoint)),
				Hashes:     hashes,
				LogIndex:   conv.Pointer(int64(index)),
				RootHash:   conv.Pointer(hex.EncodeToString(rootHash)),
				TreeSize:   conv.Pointer(int64(size)),
			},
		},
	}, nil
}

// timestamp answers an RFC 3161 timestamp query.
func (s *Sigstore) timestamp(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<16))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	resp, err := s.stamp(body, s.Now())
	var bad badEntry
	switch {
	case errors.As(err, &bad):
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	case err != nil:
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/timestamp-reply")
	_, _ = io.Copy(w, bytes.NewReader(resp))
}

// stamp answers the RFC 3161 query in body with a timestamp at time at.
func (s *Sigstore) stamp(body []byte, at time.Time) ([]byte, error) {
	req, err := timestamp.ParseRequest(body)
	if err != nil {
		return nil, badEntry{fmt.Errorf("parsing timestamp query: %w", err)}
	}
	ts := timestamp.Timestamp{
		HashAlgorithm: req.HashAlgorithm, HashedMessage: req.HashedMessage, Time: at,
		Nonce: req.Nonce, Policy: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 2},
		ExtraExtensions: req.Extensions, AddTSACertificate: req.Certificates,
	}
	resp, err := ts.CreateResponseWithOpts(s.tsaLeaf, s.tsaLeafKey, crypto.SHA256)
	if err != nil {
		return nil, err
	}
	s.Timestamps.Add(1)
	return resp, nil
}
