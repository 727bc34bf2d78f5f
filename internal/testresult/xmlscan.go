package testresult

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// xmlKind is the kind of an xmlToken.
type xmlKind int

const (
	xmlStart xmlKind = iota + 1
	xmlEnd
	xmlEOF
)

// xmlAttr is an attribute; its raw value stays in the scanner's buffer
// until the next token, and is decoded only when asked for.
type xmlAttr struct {
	name string
	raw  []byte
}

// xmlToken is a start or end tag, or the end of the document.
type xmlToken struct {
	kind  xmlKind
	name  string
	attrs []xmlAttr
}

func (t *xmlToken) attr(name string) string {
	if raw, ok := t.rawAttr(name); ok {
		return unescapeXML(string(raw))
	}
	return ""
}

// rawAttr is an attribute's value as written, valid until the next token.
func (t *xmlToken) rawAttr(name string) ([]byte, bool) {
	for _, a := range t.attrs {
		if a.name == name {
			return a.raw, true
		}
	}
	return nil, false
}

// xmlScanner is a small streaming XML tokenizer for JUnit reports, several
// times faster than encoding/xml's Decoder on them (the 50 ms bar
// for a 10,000-case report). It checks what a report needs to be whole:
// every element closed by its own end tag, attributes quoted with known
// entities, comments, CDATA sections and processing instructions closed,
// nothing but white space outside the one root element. A DOCTYPE is
// refused: JUnit reports have none, and the entities it could declare are
// not expanded. Character data is collected (decoded, bounded) into text
// only while capture is set.
type xmlScanner struct {
	r       *bufio.Reader
	off     int64 // bytes consumed
	line    int   // the line of off, 1-based
	lineOff int64 // the offset where that line starts
	stack   []string
	root    bool   // the root element was seen
	selfEnd string // the end of a self-closing element, returned next
	tok     xmlToken
	attrs   []xmlAttr // the current start tag's attributes, reused
	arena   []byte    // their values
	capture bool
	text    boundedText
	raw     []byte
}

func newXMLScanner(r *bufio.Reader) *xmlScanner {
	return &xmlScanner{r: r, line: 1}
}

// xmlError is a malformed or truncated document at a position.
type xmlError struct {
	line, col int
	off       int64
	msg       string
}

func (e *xmlError) Error() string { return e.msg }

func (s *xmlScanner) errorf(format string, a ...any) error {
	return &xmlError{line: s.line, col: int(s.off-s.lineOff) + 1, off: s.off, msg: fmt.Sprintf(format, a...)}
}

func (s *xmlScanner) truncated() error {
	return s.errorf("unexpected end of file: the report is truncated; write it again, completely")
}

// consumed advances the position over b.
func (s *xmlScanner) consumed(b []byte) {
	if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
		s.line += bytes.Count(b, []byte{'\n'})
		s.lineOff = s.off + int64(i) + 1
	}
	s.off += int64(len(b))
}

func (s *xmlScanner) readByte() (byte, error) {
	c, err := s.r.ReadByte()
	if err == io.EOF {
		return 0, s.truncated()
	}
	if err != nil {
		return 0, err
	}
	s.off++
	if c == '\n' {
		s.line++
		s.lineOff = s.off
	}
	return c, nil
}

// next returns the next start or end tag, or xmlEOF after the root element.
func (s *xmlScanner) next() (*xmlToken, error) {
	if s.selfEnd != "" {
		s.tok = xmlToken{kind: xmlEnd, name: s.selfEnd}
		s.selfEnd = ""
		s.stack = s.stack[:len(s.stack)-1]
		return &s.tok, nil
	}
	for {
		if err := s.chars(); err != nil {
			return nil, err
		}
		if s.tok.kind == xmlEOF {
			return &s.tok, nil
		}
		c, err := s.readByte()
		if err != nil {
			return nil, err
		}
		switch c {
		case '?':
			if err := s.skipPast("?>"); err != nil {
				return nil, err
			}
		case '!':
			if err := s.bang(); err != nil {
				return nil, err
			}
		case '/':
			name, c, err := s.name(0)
			if err != nil {
				return nil, err
			}
			if c, err = s.skipSpace(c); err != nil {
				return nil, err
			}
			if c != '>' {
				return nil, s.errorf("%q in the end tag </%s>", c, name)
			}
			switch n := len(s.stack); {
			case n == 0:
				return nil, s.errorf("end tag </%s> without a start tag", name)
			case s.stack[n-1] != name:
				return nil, s.errorf("element <%s> closed by </%s>", s.stack[n-1], name)
			}
			s.stack = s.stack[:len(s.stack)-1]
			s.tok = xmlToken{kind: xmlEnd, name: name}
			return &s.tok, nil
		default:
			if s.root && len(s.stack) == 0 {
				return nil, s.errorf("a second root element")
			}
			return &s.tok, s.startTag(c)
		}
	}
}

// chars reads character data up to the next '<' (consumed), collecting it
// while capture is set; at the end of the input it sets an xmlEOF token
// when the document is whole.
func (s *xmlScanner) chars() error {
	s.tok.kind = 0
	for {
		chunk, err := s.r.ReadSlice('<')
		s.consumed(chunk)
		data := chunk
		if err == nil {
			data = chunk[:len(chunk)-1]
		}
		if len(s.stack) == 0 {
			if len(bytes.TrimSpace(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")))) > 0 {
				return s.errorf("text outside the root element: not an XML document")
			}
		} else if s.capture {
			s.raw = append(s.raw, data...)
			if len(s.raw) > 2*maxMessage {
				s.flushRaw()
			}
		}
		switch err {
		case nil:
			s.flushRaw()
			return nil
		case bufio.ErrBufferFull:
			continue
		case io.EOF:
			switch {
			case len(s.stack) > 0:
				return s.truncated()
			case !s.root:
				return s.errorf("no XML element")
			}
			s.tok = xmlToken{kind: xmlEOF}
			return nil
		default:
			return err
		}
	}
}

// flushRaw decodes the collected raw character data into text.
func (s *xmlScanner) flushRaw() {
	if len(s.raw) > 0 {
		s.text.Write([]byte(unescapeXML(string(s.raw))))
		s.raw = s.raw[:0]
	}
}

// bang reads what follows "<!": a comment, a CDATA section or a DOCTYPE.
func (s *xmlScanner) bang() error {
	var head [2]byte
	for i := range head {
		c, err := s.readByte()
		if err != nil {
			return err
		}
		head[i] = c
	}
	switch {
	case head == [2]byte{'-', '-'}:
		return s.skipPast("-->")
	case head == [2]byte{'[', 'C'}:
		for _, want := range []byte("DATA[") {
			if c, err := s.readByte(); err != nil {
				return err
			} else if c != want {
				return s.errorf("malformed CDATA section")
			}
		}
		if len(s.stack) == 0 {
			return s.errorf("a CDATA section outside the root element")
		}
		return s.cdata()
	case head == [2]byte{'D', 'O'}:
		return s.errorf("a DOCTYPE: JUnit reports have none, and entities it declares are not read; write the report without it")
	}
	return s.errorf("malformed markup <!%s", head[:])
}

// cdata reads a CDATA section's content up to "]]>".
func (s *xmlScanner) cdata() error {
	if s.capture {
		s.flushRaw()
	}
	var kept []byte
	var last2 [2]byte
	for {
		c, err := s.readByte()
		if err != nil {
			return err
		}
		if c == '>' && last2 == [2]byte{']', ']'} {
			if s.capture {
				if len(kept) <= maxMessage+2 {
					kept = kept[:len(kept)-2]
				}
				s.text.Write(kept)
			}
			return nil
		}
		last2[0], last2[1] = last2[1], c
		if s.capture && len(kept) < maxMessage+3 {
			kept = append(kept, c)
		}
	}
}

// skipPast consumes input up to and including end.
func (s *xmlScanner) skipPast(end string) error {
	matched := 0
	for {
		c, err := s.readByte()
		if err != nil {
			return err
		}
		switch {
		case c == end[matched]:
			matched++
			if matched == len(end) {
				return nil
			}
		case c == end[0]:
			matched = 1
		default:
			matched = 0
		}
	}
}

// nameByte is isNameByte as a table.
var nameByte = func() (t [256]bool) {
	for c := range t {
		t[c] = isNameByte(byte(c))
	}
	return t
}()

func isNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.' || c == ':' || c >= 0x80
}

// name reads a name whose first byte, when not 0, was already read; it
// returns the name and the byte after it.
func (s *xmlScanner) name(first byte) (string, byte, error) {
	var b [64]byte
	n := b[:0]
	if first != 0 {
		n = append(n, first)
	}
	// Most names end inside the reader's buffer: take them from it
	// without a call per byte. A name holds no newline, the byte after it
	// may.
	if buf, _ := s.r.Peek(s.r.Buffered()); len(buf) > 0 {
		i := 0
		for i < len(buf) && i < cap(n)-len(n) && nameByte[buf[i]] {
			i++
		}
		if i < len(buf) && !nameByte[buf[i]] {
			n = append(n, buf[:i]...)
			c := buf[i]
			if _, err := s.r.Discard(i + 1); err != nil {
				return "", 0, err
			}
			s.off += int64(i + 1)
			if c == '\n' {
				s.line++
				s.lineOff = s.off
			}
			if len(n) == 0 {
				return "", 0, s.errorf("%q where a name was expected", c)
			}
			return s.intern(n), c, nil
		}
	}
	for {
		c, err := s.readByte()
		if err != nil {
			return "", 0, err
		}
		if !isNameByte(c) {
			if len(n) == 0 {
				return "", 0, s.errorf("%q where a name was expected", c)
			}
			return s.intern(n), c, nil
		}
		n = append(n, c)
	}
}

// intern returns the names JUnit reports use without allocating.
func (s *xmlScanner) intern(b []byte) string {
	switch string(b) {
	case "testsuites":
		return "testsuites"
	case "testsuite":
		return "testsuite"
	case "testcase":
		return "testcase"
	case "properties":
		return "properties"
	case "property":
		return "property"
	case "failure":
		return "failure"
	case "error":
		return "error"
	case "skipped":
		return "skipped"
	case "system-out":
		return "system-out"
	case "system-err":
		return "system-err"
	case "flakyFailure":
		return "flakyFailure"
	case "flakyError":
		return "flakyError"
	case "rerunFailure":
		return "rerunFailure"
	case "rerunError":
		return "rerunError"
	case "stackTrace":
		return "stackTrace"
	case "name":
		return "name"
	case "classname":
		return "classname"
	case "time":
		return "time"
	case "file":
		return "file"
	case "line":
		return "line"
	case "message":
		return "message"
	case "type":
		return "type"
	case "value":
		return "value"
	case "tests":
		return "tests"
	case "failures":
		return "failures"
	case "errors":
		return "errors"
	case "disabled":
		return "disabled"
	case "timestamp":
		return "timestamp"
	case "hostname":
		return "hostname"
	case "status":
		return "status"
	case "id":
		return "id"
	case "package":
		return "package"
	case "assertions":
		return "assertions"
	}
	return string(b)
}

func (s *xmlScanner) skipSpace(c byte) (byte, error) {
	for c == ' ' || c == '\t' || c == '\n' || c == '\r' {
		var err error
		if c, err = s.readByte(); err != nil {
			return 0, err
		}
	}
	return c, nil
}

// startTag reads a start tag whose first name byte is first.
func (s *xmlScanner) startTag(first byte) error {
	if !isNameByte(first) {
		return s.errorf("%q after '<'", first)
	}
	name, c, err := s.name(first)
	if err != nil {
		return err
	}
	s.attrs, s.arena = s.attrs[:0], s.arena[:0]
	for {
		if c, err = s.skipSpace(c); err != nil {
			return err
		}
		switch c {
		case '>':
			s.push(name)
			s.tok = xmlToken{kind: xmlStart, name: name, attrs: s.attrs}
			return nil
		case '/':
			if c, err = s.readByte(); err != nil {
				return err
			}
			if c != '>' {
				return s.errorf("%q after '/' in <%s>", c, name)
			}
			s.push(name)
			s.selfEnd = name
			s.tok = xmlToken{kind: xmlStart, name: name, attrs: s.attrs}
			return nil
		}
		an, c2, err := s.name(c)
		if err != nil {
			return err
		}
		if c2, err = s.skipSpace(c2); err != nil {
			return err
		}
		if c2 != '=' {
			return s.errorf("attribute %s of <%s> has no value", an, name)
		}
		q, err := s.readByte()
		if err != nil {
			return err
		}
		if q, err = s.skipSpace(q); err != nil {
			return err
		}
		if q != '"' && q != '\'' {
			return s.errorf("attribute %s of <%s>: the value is not quoted", an, name)
		}
		v, err := s.r.ReadSlice(q)
		s.consumed(v)
		if err == bufio.ErrBufferFull { // a long value: gather it
			long := append([]byte(nil), v...)
			for err == bufio.ErrBufferFull {
				v, err = s.r.ReadSlice(q)
				s.consumed(v)
				long = append(long, v...)
			}
			v = long
		}
		if err == io.EOF {
			return s.truncated()
		}
		if err != nil {
			return err
		}
		v = v[:len(v)-1]
		if bytes.IndexByte(v, '<') >= 0 {
			return s.errorf("'<' in the value of attribute %s of <%s>", an, name)
		}
		start := len(s.arena)
		s.arena = append(s.arena, v...)
		s.attrs = append(s.attrs, xmlAttr{name: an, raw: s.arena[start:len(s.arena):len(s.arena)]})
		if c, err = s.readByte(); err != nil {
			return err
		}
		if !(c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '>' || c == '/') {
			return s.errorf("%q after the value of attribute %s of <%s>", c, an, name)
		}
	}
}

func (s *xmlScanner) push(name string) {
	s.stack = append(s.stack, name)
	s.root = true
}

// startCapture starts collecting character data into text.
func (s *xmlScanner) startCapture() {
	s.capture = true
	s.text.Reset()
	s.raw = s.raw[:0]
}

// stopCapture stops collecting and returns the text.
func (s *xmlScanner) stopCapture() string {
	s.flushRaw()
	s.capture = false
	return s.text.String()
}

// unescapeXML decodes the predefined entities and character references;
// an unknown entity is kept as written.
func unescapeXML(v string) string {
	if strings.IndexByte(v, '&') < 0 && strings.IndexByte(v, '\r') < 0 {
		return v
	}
	var b strings.Builder
	b.Grow(len(v))
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == '\r' {
			b.WriteByte('\n')
			if i+1 < len(v) && v[i+1] == '\n' {
				i++
			}
			continue
		}
		if c != '&' {
			b.WriteByte(c)
			continue
		}
		end := strings.IndexByte(v[i:], ';')
		if end < 0 || end > 12 {
			b.WriteByte(c)
			continue
		}
		ent := v[i+1 : i+end]
		switch ent {
		case "lt":
			b.WriteByte('<')
		case "gt":
			b.WriteByte('>')
		case "amp":
			b.WriteByte('&')
		case "quot":
			b.WriteByte('"')
		case "apos":
			b.WriteByte('\'')
		default:
			r, ok := charRef(ent)
			if !ok {
				b.WriteString(v[i : i+end+1])
			} else {
				b.WriteRune(r)
			}
		}
		i += end
	}
	return b.String()
}

func charRef(ent string) (rune, bool) {
	var n uint64
	var err error
	switch {
	case strings.HasPrefix(ent, "#x"):
		n, err = strconv.ParseUint(ent[2:], 16, 32)
	case strings.HasPrefix(ent, "#"):
		n, err = strconv.ParseUint(ent[1:], 10, 32)
	default:
		return 0, false
	}
	if err != nil || n > 0x10FFFF {
		return 0, false
	}
	return rune(n), true
}
