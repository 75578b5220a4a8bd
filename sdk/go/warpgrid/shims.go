//go:build wasip1

package warpgrid

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"time"
	"unsafe"

	"warpgrid.dev/sdk/internal/cabi"
)

//go:wasmimport warpgrid:shim/dns@0.1.0 resolve
func dnsResolve(host, hostLen uint32, ret unsafe.Pointer)

//go:wasmimport warpgrid:shim/filesystem@0.1.0 read-virtual
func fsReadVirtual(path, pathLen uint32, ret unsafe.Pointer)

//go:wasmimport warpgrid:shim/filesystem@0.1.0 is-virtual
func fsIsVirtual(path, pathLen uint32) int32

//go:wasmimport warpgrid:shim/signals@0.1.0 on-signal
func signalsOnSignal(sig int32) int32

//go:wasmimport warpgrid:shim/signals@0.1.0 poll-signal
func signalsPollSignal(ret unsafe.Pointer)

//go:wasmimport warpgrid:shim/database-proxy@0.1.0 connect
func dbConnect(protocol int32, host, hostLen uint32, port int32, hasDatabase int32, database, databaseLen uint32, poolSize int32, ret unsafe.Pointer)

//go:wasmimport warpgrid:shim/database-proxy@0.1.0 send
func dbSend(conn uint64, data, dataLen uint32, ret unsafe.Pointer)

//go:wasmimport warpgrid:shim/database-proxy@0.1.0 recv
func dbRecv(conn uint64, maxBytes uint32, ret unsafe.Pointer)

//go:wasmimport warpgrid:shim/database-proxy@0.1.0 close
func dbClose(conn uint64)

// Resolve returns the addresses of host: the deployment's service registry
// (`NAME.NAMESPACE.warp.local`), `[shims.dns] hosts`, then the host's resolver.
func Resolve(host string) ([]net.IP, error) {
	cabi.Lock()
	defer cabi.Unlock()
	mark := cabi.Mark()
	defer cabi.Reset(mark)
	dnsResolve(cabi.String(host), uint32(len(host)), cabi.Ret())
	cabi.Keep(host)
	if cabi.U8(0) != 0 {
		switch cabi.U8(4) {
		case 0:
			return nil, fmt.Errorf("%w: %s", ErrNotFound, host)
		case 1:
			return nil, fmt.Errorf("%w: resolving %s", ErrTimeout, host)
		default:
			return nil, fmt.Errorf("warpgrid: resolving %s failed", host)
		}
	}
	list, n := cabi.U32(4), cabi.U32(8)
	ips := make([]net.IP, 0, n)
	for i := uint32(0); i < n; i++ {
		e := list + i*12
		octets := cabi.Bytes(*(*uint32)(cabi.Ptr(e)), *(*uint32)(cabi.Ptr(e + 4)))
		ips = append(ips, append(net.IP(nil), octets...))
	}
	return ips, nil
}

// LookupHost returns the addresses of host as strings, through [Resolve]:
// the shape of pgx's `Config.LookupFunc` and net.Resolver.LookupHost.
func LookupHost(ctx context.Context, host string) ([]string, error) {
	if ip := net.ParseIP(host); ip != nil {
		return []string{host}, nil
	}
	ips, err := Resolve(host)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(ips))
	for i, ip := range ips {
		out[i] = ip.String()
	}
	return out, nil
}

// ReadFile reads a virtual file the deployment provides at path, else the
// file itself (from a directory `[dirs]` maps).
func ReadFile(path string) ([]byte, error) {
	cabi.Lock()
	mark := cabi.Mark()
	fsReadVirtual(cabi.String(path), uint32(len(path)), cabi.Ret())
	cabi.Keep(path)
	var data []byte
	virtual := cabi.U8(0) == 1
	if virtual {
		data = append([]byte{}, cabi.Bytes(cabi.U32(4), cabi.U32(8))...)
	}
	cabi.Reset(mark)
	cabi.Unlock()
	if virtual {
		return data, nil
	}
	return os.ReadFile(path)
}

// IsVirtual reports whether the deployment provides path virtually.
func IsVirtual(path string) bool {
	cabi.Lock()
	defer cabi.Unlock()
	virtual := fsIsVirtual(cabi.String(path), uint32(len(path))) != 0
	cabi.Keep(path)
	return virtual
}

// OnSignal registers interest in sig (the runner queues up to 16); it
// reports whether it was newly registered.
func OnSignal(sig Signal) bool {
	cabi.Lock()
	defer cabi.Unlock()
	return signalsOnSignal(int32(sig)) != 0
}

// PollSignal returns the oldest queued signal, if any.
func PollSignal() (Signal, bool) {
	cabi.Lock()
	defer cabi.Unlock()
	signalsPollSignal(cabi.Ret())
	if cabi.U8(0) == 0 {
		return 0, false
	}
	return Signal(cabi.U8(1)), true
}

// The database protocols, in the shim's order, and the port that suggests each.
var protocolPorts = [...]int{5432, 3306, 6379}

func dbError(code uint8) error {
	switch code {
	case 0:
		return ErrConnectionRefused
	case 1:
		return ErrTimeout
	case 2:
		return ErrProtocol
	case 3:
		return ErrPoolExhausted
	}
	return ErrClosed
}

// DialContext connects to address. A TCP address that a
// `[[shims.database]]` entry lists (by host name or an address it
// resolves to) becomes a connection through the runner's database proxy,
// pooled by the host; anything else is dialed as usual (inside a
// component, Go's network reaches only listeners in the same program).
func DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	host, portText, err := net.SplitHostPort(address)
	if err != nil || (network != "tcp" && network != "tcp4" && network != "tcp6") {
		var d net.Dialer
		return d.DialContext(ctx, network, address)
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		return nil, &net.OpError{Op: "dial", Net: network, Err: err}
	}
	first := 0
	for i, p := range protocolPorts {
		if p == port {
			first = i
		}
	}
	for i := range protocolPorts {
		protocol := (first + i) % len(protocolPorts)
		handle, err := connect(protocol, host, port)
		if errors.Is(err, ErrConnectionRefused) {
			continue
		}
		if err != nil {
			return nil, &net.OpError{Op: "dial", Net: network, Addr: addr(address), Err: err}
		}
		return &dbConn{handle: handle, remote: addr(address)}, nil
	}
	var d net.Dialer
	return d.DialContext(ctx, network, address)
}

func connect(protocol int, host string, port int) (uint64, error) {
	cabi.Lock()
	defer cabi.Unlock()
	dbConnect(int32(protocol), cabi.String(host), uint32(len(host)), int32(port), 0, 0, 0, 0, cabi.Ret())
	cabi.Keep(host)
	if cabi.U8(0) != 0 {
		return 0, dbError(cabi.U8(8))
	}
	return cabi.U64(8), nil
}

type addr string

func (a addr) Network() string { return "tcp" }
func (a addr) String() string  { return string(a) }

// dbConn is a connection through the database proxy. Deadlines are
// accepted and not enforced: the runner bounds each request's time.
type dbConn struct {
	handle  uint64
	remote  net.Addr
	pending []byte
	closed  bool
}

const maxRecv = 64 << 10

func (c *dbConn) Read(p []byte) (int, error) {
	if c.closed {
		return 0, net.ErrClosed
	}
	if len(c.pending) > 0 {
		n := copy(p, c.pending)
		c.pending = c.pending[n:]
		return n, nil
	}
	if len(p) == 0 {
		return 0, nil
	}
	cabi.Lock()
	defer cabi.Unlock()
	mark := cabi.Mark()
	defer cabi.Reset(mark)
	dbRecv(c.handle, uint32(min(len(p), maxRecv)), cabi.Ret())
	if cabi.U8(0) != 0 {
		if err := dbError(cabi.U8(4)); err != ErrClosed {
			return 0, err
		}
		return 0, io.EOF
	}
	data := cabi.Bytes(cabi.U32(4), cabi.U32(8))
	if len(data) == 0 {
		return 0, io.EOF
	}
	n := copy(p, data)
	c.pending = append(c.pending[:0], data[n:]...)
	return n, nil
}

func (c *dbConn) Write(p []byte) (int, error) {
	if c.closed {
		return 0, net.ErrClosed
	}
	written := 0
	for written < len(p) {
		chunk := p[written:]
		cabi.Lock()
		dbSend(c.handle, cabi.Slice(chunk), uint32(len(chunk)), cabi.Ret())
		cabi.Keep(chunk)
		failed, code, n := cabi.U8(0) != 0, cabi.U8(4), cabi.U32(4)
		cabi.Unlock()
		if failed {
			return written, dbError(code)
		}
		written += int(n)
	}
	return written, nil
}

func (c *dbConn) Close() error {
	if c.closed {
		return nil
	}
	c.closed = true
	cabi.Lock()
	defer cabi.Unlock()
	dbClose(c.handle)
	return nil
}

func (c *dbConn) LocalAddr() net.Addr                { return addr("warpgrid:0") }
func (c *dbConn) RemoteAddr() net.Addr               { return c.remote }
func (c *dbConn) SetDeadline(t time.Time) error      { return nil }
func (c *dbConn) SetReadDeadline(t time.Time) error  { return nil }
func (c *dbConn) SetWriteDeadline(t time.Time) error { return nil }
