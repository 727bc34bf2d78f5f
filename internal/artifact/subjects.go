package artifact

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"strings"

	"github.com/slipway/actions/internal/digest"
)

// Subject is a name and the digest of its content: one line of a subjects file.
type Subject struct {
	Name   string
	Digest digest.SHA256
}

// maxSubjectsLine bounds one line of a subjects file: 64 hex characters, a
// separator and a path no longer than Linux's PATH_MAX.
const maxSubjectsLine = 64 + 2 + 4096 + 1

// ParseSubjects reads a subjects file in sha256sum format: "<hex>  <name>" or
// "<hex> *<name>" per line, with sha256sum's escaping (a leading backslash,
// then "\\" and "\n" in the name). Blank lines are skipped. source names the
// file in errors, which carry the line number.
func ParseSubjects(r io.Reader, source string) ([]Subject, error) {
	var out []Subject
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxSubjectsLine)
	seen := map[string]int{}
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSuffix(sc.Text(), "\r")
		if strings.TrimSpace(text) == "" {
			continue
		}
		s, err := parseSubjectLine(text)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", source, line, err)
		}
		if prev, ok := seen[s.Name]; ok {
			return nil, fmt.Errorf("%s:%d: subject %q is listed twice (first on line %d); each name must appear once", source, line, s.Name, prev)
		}
		seen[s.Name] = line
		out = append(out, s)
	}
	if err := sc.Err(); err != nil {
		if err == bufio.ErrTooLong {
			return nil, fmt.Errorf("%s: a line is longer than %d bytes; is this a sha256sum-format subjects file?", source, maxSubjectsLine)
		}
		return nil, fmt.Errorf("reading %s: %w", source, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no subjects; want lines of \"<sha256 hex>  <name>\"", source)
	}
	return out, nil
}

func parseSubjectLine(text string) (Subject, error) {
	escaped := strings.HasPrefix(text, `\`)
	if escaped {
		text = text[1:]
	}
	if len(text) < 66 {
		return Subject{}, fmt.Errorf("line %q is too short; want \"<64 hex characters>  <name>\"", text)
	}
	hexPart, rest := text[:64], text[64:]
	d, err := digest.ParseHex(hexPart)
	if err != nil {
		return Subject{}, err
	}
	var name string
	switch {
	case strings.HasPrefix(rest, "  "), strings.HasPrefix(rest, " *"):
		name = rest[2:]
	default:
		return Subject{}, fmt.Errorf("want two spaces (or \" *\") between the digest and the name, got %q", rest[:min(2, len(rest))])
	}
	if escaped {
		if name, err = unescapeName(name); err != nil {
			return Subject{}, err
		}
	}
	if name == "" {
		return Subject{}, fmt.Errorf("the name after digest %s is empty", d.Hex())
	}
	return Subject{Name: name, Digest: d}, nil
}

func unescapeName(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 == len(s) {
			return "", fmt.Errorf("name %q ends in a lone backslash", s)
		}
		i++
		switch s[i] {
		case '\\':
			b.WriteByte('\\')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		default:
			return "", fmt.Errorf("name %q has unknown escape \"\\%c\"", s, s[i])
		}
	}
	return b.String(), nil
}

// WriteSubjects writes subjects in sha256sum format, escaping names the way
// sha256sum does so that `sha256sum -c` accepts the file.
func WriteSubjects(w io.Writer, subjects []Subject) error {
	bw := bufio.NewWriter(w)
	for _, s := range subjects {
		name := s.Name
		prefix := ""
		if strings.ContainsAny(name, "\\\n\r") {
			prefix = `\`
			name = strings.NewReplacer(`\`, `\\`, "\n", `\n`, "\r", `\r`).Replace(name)
		}
		if _, err := fmt.Fprintf(bw, "%s%s  %s\n", prefix, s.Digest.Hex(), name); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// Base64Subjects returns the subjects file, base64-encoded: the
// "base64-subjects" input of slsa-github-generator's generic generator.
func Base64Subjects(subjects []Subject) string {
	var b bytes.Buffer
	_ = WriteSubjects(&b, subjects) // a bytes.Buffer never fails
	return base64.StdEncoding.EncodeToString(b.Bytes())
}
