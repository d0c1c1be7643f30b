package webhook

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// Policy says where webhooks may go. The zero Policy allows public
// addresses only: a webhook is a request the ledger makes on a tenant's
// behalf, and must not reach the ledger's own network (OWASP SSRF
// prevention).
type Policy struct {
	// AllowPrivate also allows loopback, private, link-local and other
	// non-public addresses: for development and tests only
	// (LEDGER_WEBHOOK_ALLOW_PRIVATE=true).
	AllowPrivate bool
	// Resolver looks names up when a URL is configured; nil means
	// net.DefaultResolver.
	Resolver *net.Resolver
}

// notPublic are the ranges, beside what netip.Addr's predicates name
// (loopback, private, link-local, multicast, unspecified), that are not
// public unicast addresses (IANA special-purpose registries).
var notPublic = func() []netip.Prefix {
	var out []netip.Prefix
	for _, p := range []string{
		"0.0.0.0/8", "100.64.0.0/10", "192.0.0.0/24", "192.0.2.0/24", "198.18.0.0/15", "198.51.100.0/24",
		"203.0.113.0/24", "240.0.0.0/4", // the last includes 255.255.255.255
		"::/96", "64:ff9b::/96", "64:ff9b:1::/48", "100::/64", "2001::/23", "2001:db8::/32", "2002::/16", "fec0::/10",
	} {
		out = append(out, netip.MustParsePrefix(p))
	}
	return out
}()

// IsPublic reports whether a webhook may be sent to ip under the default
// policy. IPv4-mapped IPv6 addresses are judged as the IPv4 they carry.
func IsPublic(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !ip.IsValid() || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsInterfaceLocalMulticast() || ip.IsMulticast() || ip.IsUnspecified() {
		return false
	}
	for _, p := range notPublic {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

// errNotAllowed is what a delivery to a forbidden address fails with; its
// words name no address.
var errNotAllowed = errors.New("the webhook URL leads to an address that is not allowed (loopback, private, link-local or otherwise not public)")

// errNotHTTPS refuses a plain http URL where private targets are not
// allowed: only a development ledger, whose receivers are on its own
// machine, may send notifications unencrypted.
var errNotHTTPS = errors.New("must be an https URL (plain http is accepted only when the ledger allows private targets, in development)")

// localNames are host names that mean this machine or its local network.
func localName(host string) bool {
	h := strings.TrimSuffix(strings.ToLower(host), ".")
	for _, suffix := range []string{"localhost", "local", "internal", "home.arpa", "localdomain", "intranet", "lan"} {
		if h == suffix || strings.HasSuffix(h, "."+suffix) {
			return true
		}
	}
	return false
}

// numericHost reports a host whose every label is a number (decimal, octal
// or 0x hex): forms such as 2130706433, 0x7f.1, 0177.0.0.1 or 127.1, which C
// resolvers read as IPv4 addresses although they are not dotted quads. No
// DNS name is all numbers (top-level domains are not).
func numericHost(host string) bool {
	h := strings.TrimSuffix(strings.ToLower(host), ".")
	if h == "" {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		digits, hex := strings.CutPrefix(label, "0x")
		if digits == "" && !hex {
			return false
		}
		for _, c := range digits {
			if !('0' <= c && c <= '9' || hex && 'a' <= c && c <= 'f') {
				return false
			}
		}
	}
	return true
}

// CheckURL checks a webhook URL when it is configured: its form
// (ValidateURL), and, unless the policy allows private targets, that it is
// https (a notification carries a placement's status in its body, and
// plain http would show it to the network) and that its host is not a local name, not a non-canonical numeric address, and (for
// an IP literal, or a name that resolves now) only public addresses. A name
// that cannot be resolved now is accepted: every connection is checked
// again when it is made, because a name can resolve differently later.
func CheckURL(ctx context.Context, raw string, p Policy) error {
	if err := ValidateURL(raw); err != nil {
		return err
	}
	u, _ := url.Parse(raw)
	if !p.AllowPrivate && u.Scheme != "https" {
		return errNotHTTPS
	}
	host := u.Hostname()
	if ip, err := netip.ParseAddr(host); err == nil {
		if ip.Zone() != "" {
			return fmt.Errorf("must not name a network interface")
		}
		if !p.AllowPrivate && !IsPublic(ip) {
			return fmt.Errorf("must point to a public address, not a loopback, private, link-local or reserved one")
		}
		return nil
	}
	if numericHost(host) {
		return fmt.Errorf("must write an IP address in its usual form (like 203.0.113.7), or use a host name")
	}
	if p.AllowPrivate {
		return nil
	}
	if localName(host) {
		return fmt.Errorf("must point to a public host, not a local name")
	}
	resolver := p.Resolver
	if resolver == nil {
		resolver = net.DefaultResolver
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	addrs, err := resolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil // checked again at every connection
	}
	for _, a := range addrs {
		if !IsPublic(a) {
			return fmt.Errorf("must point to a public host; this name resolves to a loopback, private, link-local or reserved address")
		}
	}
	return nil
}

// NewClient returns the HTTP client deliveries use: no proxy (a proxy would
// be the only address checked), every connection's address checked after
// resolution against the policy, no redirects followed (a 3xx is a failed
// delivery), and bounded times.
func NewClient(p Policy) *http.Client {
	dialer := &net.Dialer{
		Timeout:   5 * time.Second,
		KeepAlive: 30 * time.Second,
		Control: func(network, address string, _ syscall.RawConn) error {
			if p.AllowPrivate {
				return nil
			}
			ap, err := netip.ParseAddrPort(address)
			if err != nil || !IsPublic(ap.Addr()) {
				return errNotAllowed
			}
			return nil
		},
	}
	transport := &http.Transport{
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   5 * time.Second,
		ResponseHeaderTimeout: deliveryTimeout,
		ExpectContinueTimeout: time.Second,
	}
	var rt http.RoundTripper = transport
	if !p.AllowPrivate {
		rt = httpsOnly{transport}
	}
	return &http.Client{
		Transport:     rt,
		Timeout:       deliveryTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// errPlainHTTP fails a delivery to a plain http URL configured before
// CheckURL required https: the body is never sent unencrypted.
var errPlainHTTP = errors.New("the webhook URL is plain http, which is not allowed: configure an https URL")

// httpsOnly refuses every request that is not https, before any connection.
type httpsOnly struct{ next http.RoundTripper }

func (h httpsOnly) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Scheme != "https" {
		if r.Body != nil {
			_ = r.Body.Close()
		}
		return nil, errPlainHTTP
	}
	return h.next.RoundTrip(r)
}

// describe turns a delivery error into words that reveal nothing about the
// network behind the URL: no addresses, ports, or which of refused,
// filtered and timed out it was (that would make webhooks a port scanner).
func describe(err error) string {
	for _, known := range []error{errNotAllowed, errPlainHTTP} {
		if errors.Is(err, known) {
			return known.Error()
		}
	}
	return "the receiver could not be reached, or did not answer in time"
}
