//go:build wasip1

// Package bridge makes an unchanged Go net/http program a
// `wasi:http/incoming-handler` component. warp adds it at build time: a
// generated file in the program's main package calls [Main] with the
// program's `main`, and nothing else in the program changes.
//
// On wasip1 Go's `net` package is an in-process network, so the program's
// `http.ListenAndServe` (or `Server.Serve`, any router) listens inside the
// instance. The first request starts `main` in a goroutine and waits until
// a listener appears; every request is then written as HTTP/1.1 to that
// listener over an in-process connection, and the response is streamed back
// to the host. Connections are kept alive between requests, and the
// instance, its goroutines and its package-level state live on between
// requests for as long as the runner keeps the instance.
//
// Not for direct use: warp wires it in.
package bridge

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
	"warpgrid.dev/sdk/internal/cabi"
)

var (
	userMain  func()
	mainDone  chan struct{}
	mainPanic any
	target    string
	idle      []*conn
)

// Main registers the program's `main`; the generated file warp adds to the
// main package calls it from an `init`.
func Main(main func()) { userMain = main }

// StartTimeout bounds how long the first request waits for `main` to
// listen. WARP_GO_START_TIMEOUT (a Go duration) overrides it.
var StartTimeout = 10 * time.Second

//go:wasmexport wasi:http/incoming-handler@0.2.12#handle
func handle(request, responseOut int32) {
	req, body, err := readRequest(request)
	if err != nil {
		fail(responseOut, http.StatusBadRequest, err.Error())
		return
	}
	if body != nil {
		defer body.close()
	}
	addr, err := serving()
	if err != nil {
		fail(responseOut, http.StatusInternalServerError, err.Error())
		return
	}
	if err := roundTrip(addr, req, body, responseOut); err != nil {
		fmt.Fprintf(os.Stderr, "warp bridge: %s %s: %v\n", req.Method, req.URL.RequestURI(), err)
	}
}

// serving starts `main` once and returns the address it listens on.
func serving() (string, error) {
	if target != "" {
		return target, nil
	}
	if userMain == nil {
		return "", errors.New("warp bridge: the program's main was not registered (the generated bridge file is missing from the build)")
	}
	if mainDone == nil {
		mainDone = make(chan struct{})
		go func() {
			defer close(mainDone)
			defer func() { mainPanic = recover() }()
			userMain()
		}()
	}
	timeout := StartTimeout
	if s := os.Getenv("WARP_GO_START_TIMEOUT"); s != "" {
		if d, err := time.ParseDuration(s); err == nil {
			timeout = d
		}
	}
	deadline := time.Now().Add(timeout)
	// The port to serve, when the deployment says: WARP_GO_PORT, else PORT
	// (the convention many services read their port from).
	wanted := os.Getenv("WARP_GO_PORT")
	if wanted == "" {
		wanted = os.Getenv("PORT")
	}
	wantedPort, _ := strconv.Atoi(wanted)
	settle := 0
	for spins := 0; ; spins++ {
		listeners := findListeners()
		if addr, ok := listeners[wantedPort]; ok && wantedPort != 0 {
			target = addr
			return addr, nil
		}
		if len(listeners) > 0 {
			// Let main open the rest of its listeners (a metrics or pprof
			// one may come first, or the wanted port may not be the one
			// main uses), then take the lowest port.
			limit := 50
			if wantedPort != 0 {
				limit = 300
			}
			if settle++; settle > limit {
				target = lowest(listeners)
				return target, nil
			}
		}
		select {
		case <-mainDone:
			if len(listeners) > 0 {
				// main started its servers in goroutines and returned.
				target = lowest(listeners)
				if addr, ok := listeners[wantedPort]; ok {
					target = addr
				}
				return target, nil
			}
			if mainPanic != nil {
				return "", fmt.Errorf("the Go program's main panicked before it listened: %v", mainPanic)
			}
			return "", errors.New("the Go program's main returned without listening: warp serves the net/http server that main starts (http.ListenAndServe, http.Server.ListenAndServe or Serve)")
		default:
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("the Go program's main did not listen within %v: warp serves the net/http server that main starts (http.ListenAndServe, http.Server.ListenAndServe or Serve); set WARP_GO_START_TIMEOUT for a slower start", timeout)
		}
		if spins < 100 {
			// Let main run: goroutines run only while this export does.
			yield()
		} else {
			time.Sleep(time.Millisecond)
		}
	}
}

// conn is a kept-alive in-process HTTP/1.1 connection to the program.
type conn struct {
	net.Conn
	r *bufio.Reader
}

// dial returns a kept-alive connection (reused = true) or a new one.
func dial(addr string) (c *conn, reused bool, err error) {
	if n := len(idle); n > 0 {
		c := idle[n-1]
		idle = idle[:n-1]
		return c, true, nil
	}
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, false, fmt.Errorf("dialing the program's listener %s: %w", addr, err)
	}
	return &conn{Conn: nc, r: bufio.NewReaderSize(nc, 32<<10)}, false, nil
}

// hopByHop are the headers of one connection, which the host refuses in a
// wasi:http response (and which do not cross a proxy).
var hopByHop = map[string]bool{
	"Connection": true, "Keep-Alive": true, "Proxy-Connection": true, "Transfer-Encoding": true,
	"Upgrade": true, "Te": true, "Trailer": true, "Host": true, "Http2-Settings": true,
}

func roundTrip(addr string, req *http.Request, reqBody *inBody, responseOut int32) error {
	var (
		c       *conn
		resp    *http.Response
		written chan error
	)
	for attempt := 0; ; attempt++ {
		var reused bool
		var err error
		c, reused, err = dial(addr)
		if err != nil {
			fail(responseOut, http.StatusInternalServerError, err.Error())
			return err
		}
		written = make(chan error, 1)
		go func() { written <- req.Write(c) }()
		resp, err = readResponse(c, req)
		if err == nil {
			break
		}
		c.Close()
		<-written
		// A kept-alive connection the program's server had closed (its
		// IdleTimeout): once more on a new one, if none of the body was
		// read yet (so the request can be sent again whole).
		if reused && attempt == 0 && (reqBody == nil || !reqBody.started) {
			continue
		}
		// The program's server closes the connection without answering
		// when a handler panics (after logging the panic).
		fail(responseOut, http.StatusInternalServerError, "the Go program closed the connection without a response (did a handler panic? see the log)")
		return err
	}
	reusable := !resp.Close
	out, body, err := startResponse(resp, req.Method)
	if err != nil {
		c.Close()
		resp.Body.Close()
		fail(responseOut, http.StatusInternalServerError, err.Error())
		return err
	}
	setResponse(responseOut, out)
	copyErr := body.copyFrom(resp.Body)
	resp.Body.Close()
	body.finish()
	if werr := <-written; werr != nil {
		reusable = false
		if copyErr == nil && !errors.Is(werr, io.ErrClosedPipe) {
			copyErr = fmt.Errorf("writing the request to the program: %w", werr)
		}
	}
	if reusable && copyErr == nil {
		idle = append(idle, c)
	} else {
		c.Close()
	}
	return copyErr
}

// readResponse reads the final response, skipping 1xx interim ones (a
// 100 Continue never reaches the client: the host answered Expect itself).
func readResponse(c *conn, req *http.Request) (*http.Response, error) {
	for {
		resp, err := http.ReadResponse(c.r, req)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode >= 200 || resp.StatusCode == http.StatusSwitchingProtocols {
			return resp, nil
		}
	}
}

// startResponse creates the outgoing response with the program's status
// and headers, and opens its body.
func startResponse(resp *http.Response, method string) (int32, *outBody, error) {
	noBody := method == http.MethodHead || resp.StatusCode == http.StatusNoContent || resp.StatusCode == http.StatusNotModified
	var names, values []string
	for name, vs := range resp.Header {
		if hopByHop[name] || (noBody && name == "Content-Length") {
			continue
		}
		for _, v := range vs {
			names = append(names, name)
			values = append(values, v)
		}
	}
	if !noBody && resp.ContentLength >= 0 && resp.Header.Get("Content-Length") == "" {
		names = append(names, "Content-Length")
		values = append(values, strconv.FormatInt(resp.ContentLength, 10))
	}
	fields, err := newFields(names, values)
	if err != nil {
		return 0, nil, err
	}
	cabi.Lock()
	out := newOutgoingResponse(fields)
	refused := responseSetStatusCode(out, int32(resp.StatusCode)) != 0
	cabi.Unlock()
	if refused {
		return 0, nil, fmt.Errorf("the host refused status %d", resp.StatusCode)
	}
	body, err := openBody(out)
	if err != nil {
		return 0, nil, err
	}
	return out, body, nil
}

// fail answers with a plain-text error, the cause named in the body.
func fail(responseOut int32, status int, msg string) {
	fmt.Fprintf(os.Stderr, "warp bridge: %s\n", msg)
	fields, _ := newFields([]string{"Content-Type"}, []string{"text/plain; charset=utf-8"})
	cabi.Lock()
	out := newOutgoingResponse(fields)
	responseSetStatusCode(out, int32(status))
	cabi.Unlock()
	body, err := openBody(out)
	setResponse(responseOut, out)
	if err != nil {
		return
	}
	body.copyFrom(strings.NewReader(msg + "\n"))
	body.finish()
}

// setResponse hands the response (status, headers) to the host, which
// sends them; the body follows.
func setResponse(responseOut, response int32) {
	cabi.Lock()
	defer cabi.Unlock()
	responseOutparamSet(responseOut, 0, response, 0, 0, 0, 0, 0, 0)
}
