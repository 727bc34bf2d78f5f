package canonjson

import (
	"bytes"
	"errors"
	"slices"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/cyberphone/json-canonicalization/go/src/webpki.org/jsoncanonicalizer"
)

// Transform returns the canonical form (RFC 8785) of the JSON document in.
func Transform(in []byte) ([]byte, error) {
	c := canon{in: in, out: make([]byte, 0, len(in))}
	c.space()
	if c.i >= len(c.in) || c.in[c.i] != '{' && c.in[c.i] != '[' {
		return jsoncanonicalizer.Transform(in) // it takes an object or an array only
	}
	if err := c.value(); err != nil {
		return jsoncanonicalizer.Transform(in)
	}
	c.space()
	if c.i != len(c.in) {
		return jsoncanonicalizer.Transform(in)
	}
	return c.out, nil
}

// errHandOver: the document is not one this package handles itself.
var errHandOver = errors.New("handed to the reference implementation")

// maxDepth bounds nesting (the reference implementation recurses too).
const maxDepth = 1000

type canon struct {
	in    []byte
	i     int
	out   []byte
	depth int
	key   []byte // scratch for decoded object keys
}

func (c *canon) space() {
	for c.i < len(c.in) {
		switch c.in[c.i] {
		case ' ', '\t', '\n', '\r':
			c.i++
		default:
			return
		}
	}
}

func (c *canon) value() error {
	if c.i >= len(c.in) {
		return errHandOver
	}
	switch b := c.in[c.i]; {
	case b == '{':
		return c.object()
	case b == '[':
		return c.array()
	case b == '"':
		s, err := c.str(nil)
		if err != nil {
			return err
		}
		c.out = appendString(c.out, s)
		return nil
	case b == '-' || b >= '0' && b <= '9':
		return c.number()
	}
	for _, lit := range []string{"true", "false", "null"} {
		if bytes.HasPrefix(c.in[c.i:], []byte(lit)) {
			c.i += len(lit)
			c.out = append(c.out, lit...)
			return nil
		}
	}
	return errHandOver
}

// number copies an integer of at most 15 digits (exact as a float64, and
// written by ECMAScript as its digits); anything else is handed over.
func (c *canon) number() error {
	start := c.i
	if c.in[c.i] == '-' {
		c.i++
	}
	digits := c.i
	for c.i < len(c.in) && c.in[c.i] >= '0' && c.in[c.i] <= '9' {
		c.i++
	}
	n := c.i - digits
	if n == 0 || n > 15 || n > 1 && c.in[digits] == '0' {
		return errHandOver
	}
	if c.i < len(c.in) {
		switch c.in[c.i] {
		case '.', 'e', 'E':
			return errHandOver
		}
	}
	if c.in[start] == '-' && n == 1 && c.in[digits] == '0' {
		return errHandOver // -0 is written 0
	}
	c.out = append(c.out, c.in[start:c.i]...)
	return nil
}

func (c *canon) array() error {
	if c.depth++; c.depth > maxDepth {
		return errHandOver
	}
	c.i++ // [
	c.out = append(c.out, '[')
	c.space()
	if c.i < len(c.in) && c.in[c.i] == ']' {
		c.i++
		c.out = append(c.out, ']')
		c.depth--
		return nil
	}
	for {
		c.space()
		if err := c.value(); err != nil {
			return err
		}
		c.space()
		if c.i >= len(c.in) {
			return errHandOver
		}
		switch c.in[c.i] {
		case ',':
			c.i++
			c.out = append(c.out, ',')
		case ']':
			c.i++
			c.out = append(c.out, ']')
			c.depth--
			return nil
		default:
			return errHandOver
		}
	}
}

// member is one object member, written to out at [start, end) as
// "key":value; key is its decoded name.
type member struct {
	key        string
	start, end int
}

func (c *canon) object() error {
	if c.depth++; c.depth > maxDepth {
		return errHandOver
	}
	c.i++ // {
	c.space()
	if c.i < len(c.in) && c.in[c.i] == '}' {
		c.i++
		c.out = append(c.out, '{', '}')
		c.depth--
		return nil
	}
	base := len(c.out)
	var members []member
	for {
		c.space()
		if c.i >= len(c.in) || c.in[c.i] != '"' {
			return errHandOver
		}
		k, err := c.str(c.key[:0])
		if err != nil {
			return err
		}
		c.key = k
		m := member{key: string(k), start: len(c.out)}
		c.out = appendString(c.out, k)
		c.out = append(c.out, ':')
		c.space()
		if c.i >= len(c.in) || c.in[c.i] != ':' {
			return errHandOver
		}
		c.i++
		c.space()
		if err := c.value(); err != nil {
			return err
		}
		m.end = len(c.out)
		members = append(members, m)
		c.space()
		if c.i >= len(c.in) {
			return errHandOver
		}
		if c.in[c.i] == '}' {
			c.i++
			break
		}
		if c.in[c.i] != ',' {
			return errHandOver
		}
		c.i++
	}
	slices.SortStableFunc(members, func(a, b member) int { return compareUTF16(a.key, b.key) })
	for i := 1; i < len(members); i++ {
		if members[i].key == members[i-1].key {
			return errHandOver // a duplicate name: the reference implementation refuses it
		}
	}
	written := slices.Clone(c.out[base:])
	c.out = append(c.out[:base], '{')
	for i, m := range members {
		if i > 0 {
			c.out = append(c.out, ',')
		}
		c.out = append(c.out, written[m.start-base:m.end-base]...)
	}
	c.out = append(c.out, '}')
	c.depth--
	return nil
}

// str decodes the string at c.i into buf (UTF-8). Raw control characters,
// invalid UTF-8 and lone surrogates are handed over.
func (c *canon) str(buf []byte) ([]byte, error) {
	c.i++ // "
	for {
		if c.i >= len(c.in) {
			return nil, errHandOver
		}
		b := c.in[c.i]
		switch {
		case b == '"':
			c.i++
			return buf, nil
		case b < 0x20:
			return nil, errHandOver
		case b == '\\':
			if c.i+1 >= len(c.in) {
				return nil, errHandOver
			}
			e := c.in[c.i+1]
			c.i += 2
			switch e {
			case '"', '\\', '/':
				buf = append(buf, e)
			case 'b':
				buf = append(buf, '\b')
			case 'f':
				buf = append(buf, '\f')
			case 'n':
				buf = append(buf, '\n')
			case 'r':
				buf = append(buf, '\r')
			case 't':
				buf = append(buf, '\t')
			case 'u':
				r, ok := c.hex4()
				if !ok {
					return nil, errHandOver
				}
				if utf16.IsSurrogate(r) {
					if r >= 0xdc00 || c.i+1 >= len(c.in) || c.in[c.i] != '\\' || c.in[c.i+1] != 'u' {
						return nil, errHandOver
					}
					c.i += 2
					r2, ok := c.hex4()
					if !ok {
						return nil, errHandOver
					}
					if r = utf16.DecodeRune(r, r2); r == utf8.RuneError {
						return nil, errHandOver
					}
				}
				buf = utf8.AppendRune(buf, r)
			default:
				return nil, errHandOver
			}
		case b < utf8.RuneSelf:
			buf = append(buf, b)
			c.i++
		default:
			r, n := utf8.DecodeRune(c.in[c.i:])
			if r == utf8.RuneError && n <= 1 {
				return nil, errHandOver
			}
			buf = append(buf, c.in[c.i:c.i+n]...)
			c.i += n
		}
	}
}

func (c *canon) hex4() (rune, bool) {
	if c.i+4 > len(c.in) {
		return 0, false
	}
	var r rune
	for _, b := range c.in[c.i : c.i+4] {
		r <<= 4
		switch {
		case b >= '0' && b <= '9':
			r |= rune(b - '0')
		case b >= 'a' && b <= 'f':
			r |= rune(b - 'a' + 10)
		case b >= 'A' && b <= 'F':
			r |= rune(b - 'A' + 10)
		default:
			return 0, false
		}
	}
	c.i += 4
	return r, true
}

// appendString writes s (valid UTF-8) as RFC 8785 does: quotation mark
// and reverse solidus escaped, control characters as \b \t \n \f \r or
// \u00xx, everything else as is.
func appendString(out, s []byte) []byte {
	const hex = "0123456789abcdef"
	out = append(out, '"')
	for _, b := range s {
		switch {
		case b == '"' || b == '\\':
			out = append(out, '\\', b)
		case b >= 0x20:
			out = append(out, b)
		case b == '\b':
			out = append(out, '\\', 'b')
		case b == '\t':
			out = append(out, '\\', 't')
		case b == '\n':
			out = append(out, '\\', 'n')
		case b == '\f':
			out = append(out, '\\', 'f')
		case b == '\r':
			out = append(out, '\\', 'r')
		default:
			out = append(out, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xf])
		}
	}
	return append(out, '"')
}

// compareUTF16 orders names by their UTF-16 code units, as RFC 8785 sorts
// them (which differs from UTF-8's order only beyond U+FFFF).
func compareUTF16(a, b string) int {
	ascii := true
	for i := 0; i < len(a) && ascii; i++ {
		ascii = a[i] < utf8.RuneSelf
	}
	for i := 0; i < len(b) && ascii; i++ {
		ascii = b[i] < utf8.RuneSelf
	}
	if ascii {
		return bytes.Compare([]byte(a), []byte(b))
	}
	return slices.Compare(utf16.Encode([]rune(a)), utf16.Encode([]rune(b)))
}
