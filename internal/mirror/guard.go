package mirror

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"syscall"
	"time"

	"github.com/slipway/actions/internal/timeouts"
)

// PrivateAddressError is the error of a connection to, or a reference
// naming, an address that is not public: the server refuses to reach it
// unless it was started to allow private registries.
type PrivateAddressError struct {
	Host string
}

func (e *PrivateAddressError) Error() string {
	return fmt.Sprintf("registry address %q is loopback, private, link-local or otherwise not public, and this server reaches public registries only; push the image to a public registry, or start the server with --allow-private-registries", e.Host)
}

// sharedAddressSpace is 100.64.0.0/10 (RFC 6598, carrier-grade NAT).
var sharedAddressSpace = netip.MustParsePrefix("100.64.0.0/10")

// Public reports whether a is an address a registry on the internet may
// have: not loopback, private (RFC 1918, RFC 4193), link-local, multicast,
// unspecified or in the shared address space. An IPv4 address mapped into
// IPv6 counts as itself.
func Public(a netip.Addr) bool {
	a = a.Unmap()
	return a.IsValid() && !a.IsLoopback() && !a.IsPrivate() && !a.IsLinkLocalUnicast() && !a.IsLinkLocalMulticast() &&
		!a.IsInterfaceLocalMulticast() && !a.IsMulticast() && !a.IsUnspecified() && !sharedAddressSpace.Contains(a)
}

// CheckHost refuses a registry host (host or host:port) that is plainly
// not public: "localhost" or an IP address Public refuses. A name is
// checked again at connect time by Guard, after it resolved.
func CheckHost(host string) error {
	h := host
	if hp, _, err := net.SplitHostPort(host); err == nil {
		h = hp
	}
	h = strings.TrimSuffix(strings.Trim(h, "[]"), ".")
	if strings.EqualFold(h, "localhost") || strings.HasSuffix(strings.ToLower(h), ".localhost") {
		return &PrivateAddressError{Host: host}
	}
	if a, err := netip.ParseAddr(h); err == nil && !Public(a) {
		return &PrivateAddressError{Host: host}
	}
	return nil
}

// Guard returns the transport for registries: a clone of
// http.DefaultTransport without a proxy (the server must see the address it
// connects to), every wait bounded by c, and, unless allowPrivate, every
// connection to an address Public refuses failing with a
// *PrivateAddressError, also after a redirect and whatever the name
// resolved to.
func Guard(c timeouts.Config, allowPrivate bool) http.RoundTripper {
	c = c.WithDefaults()
	base := http.DefaultTransport.(*http.Transport).Clone()
	base.Proxy = nil
	d := &net.Dialer{Timeout: c.Connect + time.Second, KeepAlive: 30 * time.Second}
	if !allowPrivate {
		d.Control = refusePrivate
	}
	base.DialContext = d.DialContext
	base.TLSHandshakeTimeout = c.Connect + time.Second
	return c.Wrap("registry", base)
}

// refusePrivate is a net.Dialer's Control: it sees the resolved address
// just before the connect.
func refusePrivate(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("connecting to %q: not an IP address and port: %w", address, err)
	}
	if !Public(ap.Addr()) {
		return &PrivateAddressError{Host: address}
	}
	return nil
}

// IsPrivateAddress reports whether err (from Fetch, or a request through
// Guard) is a refused non-public address.
func IsPrivateAddress(err error) bool {
	var pe *PrivateAddressError
	return errors.As(err, &pe)
}
