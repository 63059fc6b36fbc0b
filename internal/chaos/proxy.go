package chaos

import (
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// proxy forwards loopback TCP connections to the server's current address
// and cuts a share of them: on a cut connection, after a random number of
// bytes of the request stream (mid-request, often mid-body) or of the
// response stream (mid-response), both directions are closed. A connection
// lives across requests (keep-alive), so a cut may land in any of them.
type proxy struct {
	ln      net.Listener
	backend func() string // where the server listens now
	cut     float64       // share of connections cut
	rnd     *rand.Rand
	rndMu   sync.Mutex

	conns, cuts atomic.Int64
	wg          sync.WaitGroup
	openMu      sync.Mutex
	open        map[net.Conn]bool // closed by close: idle keep-alive connections would hold it up
}

func newProxy(backend func() string, cut float64, seed uint64) (*proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &proxy{ln: ln, backend: backend, cut: cut, rnd: rand.New(rand.NewPCG(seed, 0x70c5)), open: map[net.Conn]bool{}}
	p.wg.Go(p.serve)
	return p, nil
}

func (p *proxy) url() string { return "http://" + p.ln.Addr().String() }

func (p *proxy) close() {
	p.ln.Close()
	p.openMu.Lock()
	for c := range p.open {
		c.Close()
	}
	p.openMu.Unlock()
	p.wg.Wait()
}

// track records an open connection, or closes it when the proxy is done.
func (p *proxy) track(c net.Conn, open bool) {
	p.openMu.Lock()
	defer p.openMu.Unlock()
	if open {
		p.open[c] = true
	} else {
		delete(p.open, c)
	}
}

func (p *proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.conns.Add(1)
		p.wg.Go(func() { p.relay(c) })
	}
}

// plan draws what happens to one connection: -1 never cut, else a byte
// budget for the request (toServer) or the response direction.
func (p *proxy) plan() (toServer bool, after int64) {
	p.rndMu.Lock()
	defer p.rndMu.Unlock()
	if p.rnd.Float64() >= p.cut {
		return false, -1
	}
	if p.rnd.IntN(2) == 0 {
		return true, 1 + p.rnd.Int64N(4096) // request line, headers or body
	}
	return false, 1 + p.rnd.Int64N(1024) // status line, headers or body
}

func (p *proxy) relay(client net.Conn) {
	p.track(client, true)
	defer p.track(client, false)
	defer client.Close()
	srv, err := net.DialTimeout("tcp", p.backend(), 5*time.Second)
	if err != nil {
		return // the server is down: the device sees a reset
	}
	defer srv.Close()
	toServer, after := p.plan()
	var once sync.Once
	cutNow := func() {
		once.Do(func() {
			p.cuts.Add(1)
			client.Close()
			srv.Close()
		})
	}
	budget := func(dirToServer bool) int64 {
		if after < 0 || dirToServer != toServer {
			return -1
		}
		return after
	}
	var wg sync.WaitGroup
	wg.Go(func() { pipe(srv, client, budget(true), cutNow); srv.(*net.TCPConn).CloseWrite() })
	pipe(client, srv, budget(false), cutNow)
	client.Close()
	srv.Close()
	wg.Wait()
}

// pipe copies src to dst; with a budget ≥ 0 it calls cut once that many
// bytes have passed.
func pipe(dst io.Writer, src io.Reader, budget int64, cut func()) {
	if budget < 0 {
		io.Copy(dst, src)
		return
	}
	if n, err := io.CopyN(dst, src, budget); err == nil && n == budget {
		cut()
	}
}
