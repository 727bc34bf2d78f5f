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
	ctx := context.Background()
	pe, err := models.UnmarshalProposedEntry(http.MaxBytesReader(w, r.Body, 1<<20), runtime.JSONConsumer())
	if err != nil {
		rekorError(w, http.StatusBadRequest, "unmarshalling proposed entry: "+err.Error())
		return
	}
	impl, err := types.CreateVersionedEntry(pe)
	if err != nil {
		rekorError(w, http.StatusBadRequest, err.Error())
		return
	}
	body, err := types.CanonicalizeEntry(ctx, impl)
	if err != nil {
		rekorError(w, http.StatusBadRequest, "canonicalizing: "+err.Error())
		return
	}
	now := time.Now().Unix()
	s.mu.Lock()
	index := s.tree.Size()
	s.tree.AppendData(body)
	size := s.tree.Size()
	rootHash := s.tree.Hash()
	proof, err := s.tree.InclusionProof(index, size)
	s.mu.Unlock()
	if err != nil {
		rekorError(w, http.StatusInternalServerError, err.Error())
		return
	}
	id := hex.EncodeToString(logID(s.rekorKey.Public()))
	payload, _ := json.Marshal(tlog.RekorPayload{Body: base64.StdEncoding.EncodeToString(body), IntegratedTime: now, LogIndex: int64(index), LogID: id})
	canonical, err := jsoncanonicalizer.Transform(payload)
	if err != nil {
		rekorError(w, http.StatusInternalServerError, err.Error())
		return
	}
	sum := sha256.Sum256(canonical)
	set, err := s.rekorKey.Sign(rand.Reader, sum[:], crypto.SHA256)
	if err != nil {
		rekorError(w, http.StatusInternalServerError, err.Error())
		return
	}
	signer, err := signature.LoadECDSASignerVerifier(s.rekorKey, crypto.SHA256)
	if err != nil {
		rekorError(w, http.StatusInternalServerError, err.Error())
		return
	}
	checkpoint, err := util.CreateAndSignCheckpoint(ctx, "rekor.sigstoretest", 1, size, rootHash, signer)
	if err != nil {
		rekorError(w, http.StatusInternalServerError, err.Error())
		return
	}
	hashes := []string{}
	for _, h := range proof {
		hashes = append(hashes, hex.EncodeToString(h))
	}
	leaf := sha256.Sum256(append([]byte{0}, body...))
	uuid := hex.EncodeToString(leaf[:])
	entry := models.LogEntry{uuid: models.LogEntryAnon{
		Body:           base64.StdEncoding.EncodeToString(body),
		IntegratedTime: conv.Pointer(now),
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
	}}
	s.Entries.Add(1)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("ETag", uuid)
	w.Header().Set("Location", "/api/v1/log/entries/"+uuid)
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(entry)
}

// timestamp answers an RFC 3161 timestamp query.
func (s *Sigstore) timestamp(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<16))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	req, err := timestamp.ParseRequest(body)
	if err != nil {
		http.Error(w, "parsing timestamp query: "+err.Error(), http.StatusBadRequest)
		return
	}
	ts := timestamp.Timestamp{
		HashAlgorithm: req.HashAlgorithm, HashedMessage: req.HashedMessage, Time: time.Now(),
		Nonce: req.Nonce, Policy: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 2},
		ExtraExtensions: req.Extensions, AddTSACertificate: req.Certificates,
	}
	resp, err := ts.CreateResponseWithOpts(s.tsaLeaf, s.tsaLeafKey, crypto.SHA256)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	s.Timestamps.Add(1)
	w.Header().Set("Content-Type", "application/timestamp-reply")
	_, _ = io.Copy(w, bytes.NewReader(resp))
}
