package http

import (
	"net"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
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

// signInLimiter keeps a token bucket (golang.org/x/time/rate) per client
// address; an address whose bucket is full again is forgotten when the
// table is swept.
type signInLimiter struct {
	mu      sync.Mutex
	clients map[netip.Addr]*rate.Limiter
	now     func() time.Time
}

func newSignInLimiter() *signInLimiter {
	return &signInLimiter{clients: map[netip.Addr]*rate.Limiter{}, now: time.Now}
}

// take spends one attempt of addr's bucket. When none is left it answers
// false and how long until one is.
func (l *signInLimiter) take(addr netip.Addr) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	lim, known := l.clients[addr]
	if !known {
		if len(l.clients) >= maxSignInClients {
			l.sweep(now)
			if len(l.clients) >= maxSignInClients {
				return false, SignInRefill
			}
		}
		lim = rate.NewLimiter(rate.Every(SignInRefill), SignInBurst)
		l.clients[addr] = lim
	}
	if lim.AllowN(now, 1) {
		return true, 0
	}
	r := lim.ReserveN(now, 1) // only to learn when the next attempt is due
	wait := r.DelayFrom(now)
	r.CancelAt(now)
	return false, wait
}

// sweep forgets the addresses whose buckets are full again at now; the
// caller holds the lock.
func (l *signInLimiter) sweep(now time.Time) {
	for a, lim := range l.clients {
		if lim.TokensAt(now) >= SignInBurst {
			delete(l.clients, a)
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
