package attest

import (
	"bytes"
	"encoding/json"
	"fmt"

	intoto "github.com/in-toto/attestation/go/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"
)

// encodeStatement writes an in-toto Statement v1 whose predicate is the JSON
// object predicate, kept byte for byte (compacted). It is used for SBOM
// predicates, which must not go through protobuf's Struct: that would turn
// every number into a float64 and hold the document several times over.
func encodeStatement(subjects []*intoto.ResourceDescriptor, predicateType string, predicate []byte) ([]byte, error) {
	return writeStatement(subjects, predicateType, len(predicate), func(b *bytes.Buffer) error {
		if err := json.Compact(b, predicate); err != nil {
			return fmt.Errorf("encoding predicate: %w", err)
		}
		return nil
	})
}

// writeStatement writes an in-toto Statement v1 in one buffer with room for
// a predicate of size bytes, which writePredicate writes into it.
func writeStatement(subjects []*intoto.ResourceDescriptor, predicateType string, size int, writePredicate func(*bytes.Buffer) error) ([]byte, error) {
	// Validate the envelope fields with the in-toto types themselves.
	check := &intoto.Statement{Type: intoto.StatementTypeUri, Subject: subjects, PredicateType: predicateType, Predicate: &structpb.Struct{}}
	if err := check.Validate(); err != nil {
		return nil, fmt.Errorf("building statement: %w", err)
	}
	var b bytes.Buffer
	b.Grow(size + 256*len(subjects) + 128)
	b.WriteString(`{"_type":`)
	writeJSONString(&b, intoto.StatementTypeUri)
	b.WriteString(`,"subject":[`)
	for i, s := range subjects {
		if i > 0 {
			b.WriteByte(',')
		}
		js, err := protojson.Marshal(s)
		if err != nil {
			return nil, fmt.Errorf("encoding subject %q: %w", s.GetName(), err)
		}
		if err := json.Compact(&b, js); err != nil {
			return nil, fmt.Errorf("encoding subject %q: %w", s.GetName(), err)
		}
	}
	b.WriteString(`],"predicateType":`)
	writeJSONString(&b, predicateType)
	b.WriteString(`,"predicate":`)
	if err := writePredicate(&b); err != nil {
		return nil, err
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func writeJSONString(b *bytes.Buffer, s string) {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)       // a string always encodes
	b.Truncate(b.Len() - 1) // Encode adds a newline
}
