package httpapi

import (
	"net"
	"net/netip"
	"strconv"
	"sync"
	"time"
)

// Sign-in attempts per client address: a token bucket of SignInBurst
// attempts that refills one attempt every SignInRefill, so guessing keys
// through the dashboard is slow and sign-ins cannot be used to fill the
// session table.
const (
	SignInBurst  = 10
	SignInRefill = 6 * time.Second
	// maxSignInClients bounds the addresses tracked at once. When it is
	// reached, the addresses whose buckets refilled are forgotten; if none
	// has, a new address waits a refill.
	maxSignInClients = 10_000
)

// signInLimiter keeps, per client address, the time its bucket is full
// again (the generic cell rate algorithm: one time per address, no
// counters). An address whose bucket is full is not kept at all.
type signInLimiter struct {
	mu   sync.Mutex
	full map[netip.Addr]time.Time
	now  func() time.Time
}

func newSignInLimiter() *signInLimiter {
	return &signInLimiter{full: map[netip.Addr]time.Time{}, now: time.Now}
}

// take spends one attempt of addr's bucket. When none is left it answers
// false and how long until one is.
func (l *signInLimiter) take(addr netip.Addr) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	full, known := l.full[addr]
	if !known && len(l.full) >= maxSignInClients {
		l.sweep(now)
		if len(l.full) >= maxSignInClients {
			return false, SignInRefill
		}
	}
	if full.Before(now) {
		full = now
	}
	// Each attempt pushes the full time one refill later; the bucket is
	// empty when that would be more than a burst ahead of now.
	if wait := full.Add(SignInRefill).Sub(now) - SignInBurst*SignInRefill; wait > 0 {
		return false, wait
	}
	l.full[addr] = full.Add(SignInRefill)
	return true, 0
}

// sweep forgets the addresses whose buckets are full again at now; the
// caller holds the lock.
func (l *signInLimiter) sweep(now time.Time) {
	for a, full := range l.full {
		if !full.After(now) {
			delete(l.full, a)
		}
	}
}

// clientAddress is the address a request's connection comes from: the peer
// itself, never a header a client could write. IPv6 clients are counted
// per /64, the block one subscriber usually holds. Behind a proxy every
// client shares the proxy's address, and so one bucket.
func clientAddress(remoteAddr string) netip.Addr {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	a = a.Unmap().WithZone("")
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.Addr()
	}
	return a
}

// retryAfter is a Retry-After value: whole seconds, at least 1.
func retryAfter(d time.Duration) string {
	return strconv.FormatInt(int64((d+time.Second-1)/time.Second), 10)
}
