//go:build wasip1

package bridge

import (
	_ "net"
	"reflect"
	"sync"
	_ "unsafe"
)

// sockets is the wasip1 in-process network's table of bound sockets
// (net/net_fake.go): fakeSockAddr → *netFD. Read by field name through
// reflect, so a Go release that changes these internals fails with the
// bridge's "did not listen" error, not a crash; warp pins the Go versions
// whose internals it has tested.
//
//go:linkname sockets net.sockets
var sockets sync.Map

// findListeners returns the program's stream listeners by port.
func findListeners() map[int]string {
	found := map[int]string{}
	sockets.Range(func(k, v any) bool {
		fd := reflect.ValueOf(v)
		if fd.Kind() != reflect.Pointer || fd.IsNil() {
			return true
		}
		fd = fd.Elem()
		fake := fd.FieldByName("fakeNetFD")
		if !fake.IsValid() || fake.IsNil() {
			return true
		}
		incoming := fake.Elem().FieldByName("incoming")
		if !incoming.IsValid() || incoming.IsNil() {
			return true
		}
		laddr := reflect.ValueOf(k).FieldByName("address")
		if !laddr.IsValid() {
			return true
		}
		addr := laddr.String()
		found[portOf(addr)] = addr
		return true
	})
	return found
}

// lowest is the listener with the lowest port.
func lowest(listeners map[int]string) string {
	best, bestPort := "", -1
	for port, addr := range listeners {
		if bestPort < 0 || port < bestPort {
			best, bestPort = addr, port
		}
	}
	return best
}

func portOf(addr string) int {
	port := 0
	for i := len(addr) - 1; i >= 0; i-- {
		if addr[i] == ':' {
			for _, c := range addr[i+1:] {
				port = port*10 + int(c-'0')
			}
			break
		}
	}
	return port
}
