//go:build !wasip1

package warpgrid

import (
	"context"
	"net"
	"os"
	"os/signal"
	"syscall"
)

// Resolve returns the addresses of host (natively: the system resolver).
func Resolve(host string) ([]net.IP, error) {
	return net.LookupIP(host)
}

// LookupHost returns the addresses of host (natively: the system resolver).
func LookupHost(ctx context.Context, host string) ([]string, error) {
	return net.DefaultResolver.LookupHost(ctx, host)
}

// ReadFile reads path (natively: from the filesystem).
func ReadFile(path string) ([]byte, error) {
	return os.ReadFile(path)
}

// IsVirtual reports whether path is a virtual file (natively: never).
func IsVirtual(path string) bool { return false }

var (
	notified = make(chan os.Signal, 16)
	watching = map[Signal]bool{}
)

// OnSignal registers interest in sig; it reports whether it was new.
func OnSignal(sig Signal) bool {
	if watching[sig] {
		return false
	}
	watching[sig] = true
	signal.Notify(notified, osSignal(sig))
	return true
}

// PollSignal returns the oldest signal received since registering, if any.
func PollSignal() (Signal, bool) {
	select {
	case s := <-notified:
		switch s {
		case syscall.SIGTERM:
			return Terminate, true
		case syscall.SIGHUP:
			return Hangup, true
		default:
			return Interrupt, true
		}
	default:
		return 0, false
	}
}

func osSignal(sig Signal) os.Signal {
	switch sig {
	case Terminate:
		return syscall.SIGTERM
	case Hangup:
		return syscall.SIGHUP
	}
	return os.Interrupt
}

// DialContext dials address (natively: over the network).
func DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, network, address)
}
