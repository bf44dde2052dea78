package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/segmentio/kafka-go"
	"github.com/zs110/dispatch/dispatch/scenario"
)

// Fault-injection harness: dispatchd as a child process (so that it can be
// killed with SIGKILL), and a TCP proxy that can cut a connection path.

// soak reports whether the long versions run (SOAK=1, `make soak`).
func soak() bool { return os.Getenv("SOAK") == "1" }

// pick returns short, or long under SOAK=1.
func pick[T any](short, long T) T {
	if soak() {
		return long
	}
	return short
}

// buildDispatchd builds the dispatchd binary into the test's temp dir.
func buildDispatchd(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs dispatchd processes")
	}
	bin := filepath.Join(t.TempDir(), "dispatchd")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// engineProc is one `dispatchd serve` process, restartable on the same
// HTTP address (consoles reconnect to it).
type engineProc struct {
	t    testing.TB
	name string
	bin  string
	env  []string
	addr string // HTTP address
	log  *lockedFile

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
	err    error // how the last process ended
	starts int
}

// lockedFile is an append-only log shared by the processes of a test.
type lockedFile struct {
	mu sync.Mutex
	f  *os.File
}

func (l *lockedFile) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.f.Write(b)
}

// tail returns the last n bytes of the log, to explain a failure.
func (l *lockedFile) tail(n int64) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	st, err := l.f.Stat()
	if err != nil {
		return err.Error()
	}
	off := max(st.Size()-n, 0)
	b := make([]byte, st.Size()-off)
	if _, err := l.f.ReadAt(b, off); err != nil && !errors.Is(err, io.EOF) {
		return err.Error()
	}
	return string(b)
}

func newProcLog(t testing.TB) *lockedFile {
	t.Helper()
	dir := os.Getenv("DISPATCHD_TEST_LOGDIR") // keep the log after the test
	if dir == "" {
		dir = t.TempDir()
	}
	f, err := os.Create(filepath.Join(dir, strings.ReplaceAll(t.Name(), "/", "_")+".log"))
	if err != nil {
		t.Fatal(err)
	}
	l := &lockedFile{f: f}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("dispatchd log (tail):\n%s", l.tail(6000))
		}
		f.Close()
	})
	return l
}

// newEngineProc prepares (does not start) a dispatchd serve process.
func newEngineProc(t testing.TB, name, bin string, log *lockedFile, env map[string]string) *engineProc {
	t.Helper()
	p := &engineProc{t: t, name: name, bin: bin, addr: freeAddr(t), log: log}
	env["DISPATCH_HTTP_ADDR"] = p.addr
	p.env = os.Environ()
	for k, v := range env {
		p.env = append(p.env, k+"="+v)
	}
	t.Cleanup(func() {
		if p.running() {
			p.kill()
		}
	})
	return p
}

// rig is what the reliability tests start from: the dispatchd binary, a
// fresh database, the brokers, console tokens, one log for every process
// and a direct connection to the database for the checks.
type rig struct {
	bin, db, tokens string
	brokers         []string
	plain           map[string]string // console tokens by role label
	conn            *pgx.Conn
	log             *lockedFile
}

func newRig(t testing.TB, brokers []string) *rig {
	t.Helper()
	r := &rig{bin: buildDispatchd(t), db: testDB(t), brokers: brokers, log: newProcLog(t)}
	sc, err := scenario.Default()
	if err != nil {
		t.Fatal(err)
	}
	r.tokens, r.plain = writeTokens(t, sc)
	r.conn = pgConnect(t, r.db)
	return r
}

// engine returns a dispatchd process (not started) on database URL db,
// with the tests' environment changed by mod (optional).
func (r *rig) engine(t testing.TB, name, db string, mod func(env map[string]string)) *engineProc {
	t.Helper()
	env := engineEnv(r.brokers, db, r.tokens)
	if mod != nil {
		mod(env)
	}
	return newEngineProc(t, name, r.bin, r.log, env)
}

// verdict is what the checks at the end of a fault test found.
type verdict struct {
	settle         time.Duration // from the end of the stream until everything settled
	rep            *faultReport
	missing, extra int // console events
}

// finish waits for the stream to be produced and the world to settle, then
// checks that offsets were committed only after durability, the world's
// invariants and the consoles, and fails the test on any violation.
func (r *rig) finish(t *testing.T, stream *streamProducer, msgs []kafka.Message, sim *unitSim, consoles []*follower, settleTimeout time.Duration) verdict {
	t.Helper()
	stream.wait(t)
	var v verdict
	v.settle = waitSettled(t, r.conn, r.brokers, len(msgs), settleTimeout, sim)
	checkCommittedDurable(t, r.conn, r.brokers)
	v.rep = checkWorld(t, r.conn, r.brokers, idsOf(msgs), sim)
	v.missing, v.extra = checkConsoles(t, r.conn, consoles)
	v.rep.fail(t)
	t.Logf("result: %s", v.rep)
	return v
}

// engineEnv is the environment of a dispatchd under test: every priority
// dispatched at once, no linking (every id is its own incident), no
// escalations during the run, warnings only.
func engineEnv(brokers []string, db, tokens string) map[string]string {
	level := "warn"
	if l := os.Getenv("DISPATCHD_TEST_LOG"); l != "" {
		level = l // debug, info: to diagnose a failure
	}
	return map[string]string{
		"DISPATCH_KAFKA_BROKERS": strings.Join(brokers, ","),
		"DISPATCH_DATABASE_URL":  db,
		"DISPATCH_TOKENS_FILE":   tokens,
		"DISPATCH_GROUP_ID":      "reliability",
		// The broker's minimum: a killed instance's partitions move on after 6 s, not 30.
		"DISPATCH_KAFKA_SESSION_TIMEOUT": "6s",
		"DISPATCH_CONFIRM_FROM":          "5",
		"DISPATCH_LINK_RADIUS_M":         "-1",
		"DISPATCH_ACK_TIMEOUT":           "1h",
		"DISPATCH_LOG_LEVEL":             level,
	}
}

// start launches the process; it does not wait for readiness.
func (p *engineProc) start() {
	p.t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	cmd := exec.Command(p.bin, "serve")
	cmd.Env = p.env
	p.starts++
	prefix := fmt.Sprintf("[%s#%d] ", p.name, p.starts)
	cmd.Stdout = &prefixWriter{prefix: prefix, w: io.Discard}
	cmd.Stderr = &prefixWriter{prefix: prefix, w: p.log}
	if err := cmd.Start(); err != nil {
		p.t.Fatalf("start %s: %v", p.name, err)
	}
	exited := make(chan struct{})
	p.cmd, p.exited = cmd, exited
	go func() {
		err := cmd.Wait()
		p.mu.Lock()
		p.err = err
		p.mu.Unlock()
		close(exited)
	}()
}

// prefixWriter prefixes each write (one log line, as slog writes them).
type prefixWriter struct {
	prefix string
	w      io.Writer
}

func (pw *prefixWriter) Write(b []byte) (int, error) {
	if _, err := pw.w.Write(append([]byte(pw.prefix), b...)); err != nil {
		return 0, err
	}
	return len(b), nil
}

func (p *engineProc) running() bool {
	p.mu.Lock()
	ex := p.exited
	p.mu.Unlock()
	if ex == nil {
		return false
	}
	select {
	case <-ex:
		return false
	default:
		return true
	}
}

// ready reports whether /readyz answers 200.
func (p *engineProc) ready() bool {
	return readyz(p.addr) == http.StatusOK
}

// readyz returns the status code of /readyz at addr (0: no answer).
func readyz(addr string) int {
	c := http.Client{Timeout: 8 * time.Second}
	resp, err := c.Get("http://" + addr + "/readyz")
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// waitReady polls /readyz until it answers 200 and returns how long it took.
func (p *engineProc) waitReady(timeout time.Duration) time.Duration {
	p.t.Helper()
	start := time.Now()
	pollUntil(p.t, timeout, p.name+" ready", func() bool {
		if !p.running() {
			p.mu.Lock()
			err := p.err
			p.mu.Unlock()
			p.t.Fatalf("%s exited: %v\n%s", p.name, err, p.log.tail(4000))
		}
		return p.ready()
	})
	return time.Since(start)
}

// freeze stops the process where it is (SIGSTOP); thaw lets it go on (SIGCONT).
func (p *engineProc) freeze() { p.send(syscall.SIGSTOP) }
func (p *engineProc) thaw()   { p.send(syscall.SIGCONT) }

func (p *engineProc) send(sig syscall.Signal) {
	p.t.Helper()
	p.mu.Lock()
	cmd := p.cmd
	p.mu.Unlock()
	if err := cmd.Process.Signal(sig); err != nil {
		p.t.Fatalf("signal %s: %v", p.name, err)
	}
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *engineProc) kill() { p.signal(syscall.SIGKILL) }

// stop sends SIGTERM (a graceful stop) and waits.
func (p *engineProc) stop() { p.signal(syscall.SIGTERM) }

func (p *engineProc) signal(sig syscall.Signal) {
	p.t.Helper()
	p.mu.Lock()
	cmd, ex := p.cmd, p.exited
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	if err := cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		p.t.Errorf("signal %s: %v", p.name, err)
	}
	select {
	case <-ex:
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		<-ex
		p.t.Errorf("%s did not stop on %v within 60s", p.name, sig)
	}
}

// tcpProxy forwards a listen address to a target and can cut the path:
// cut closes every connection and refuses new ones until restore. Or it can
// hang it: every open connection goes silent for good (bytes are dropped,
// nothing is closed), and new ones are accepted but held silent until
// unhang.
type tcpProxy struct {
	addr, target string

	mu      sync.Mutex
	ln      net.Listener
	conns   map[net.Conn]*atomic.Bool // -> the pair's "silent" flag
	hanging bool
	held    []net.Conn // silent connections, closed at cleanup
	wg      sync.WaitGroup
}

func startProxy(t testing.TB, target string) *tcpProxy {
	t.Helper()
	p := &tcpProxy{addr: freeAddr(t), target: target, conns: map[net.Conn]*atomic.Bool{}}
	if err := p.restore(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.cut()
		p.mu.Lock()
		for _, c := range p.held {
			c.Close()
		}
		p.mu.Unlock()
		p.wg.Wait()
	})
	return p
}

// restore listens again on the proxy's address.
func (p *tcpProxy) restore() error {
	var ln net.Listener
	var err error
	// The port was ours a moment ago; retry briefly in case the kernel is slow to release it.
	for i := 0; i < 100; i++ {
		if ln, err = net.Listen("tcp", p.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond) // retry interval, not a wait for an effect
	}
	if err != nil {
		return fmt.Errorf("proxy listen %s: %w", p.addr, err)
	}
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	p.wg.Add(1)
	go p.accept(ln)
	return nil
}

func (p *tcpProxy) accept(ln net.Listener) {
	defer p.wg.Done()
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.hanging {
			p.held = append(p.held, c)
			p.mu.Unlock()
			continue
		}
		p.mu.Unlock()
		up, err := net.DialTimeout("tcp", p.target, 5*time.Second)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		if p.ln != ln { // cut meanwhile
			p.mu.Unlock()
			c.Close()
			up.Close()
			continue
		}
		silent := &atomic.Bool{}
		p.conns[c], p.conns[up] = silent, silent
		p.mu.Unlock()
		pipe := func(dst, src net.Conn) {
			defer p.wg.Done()
			buf := make([]byte, 32<<10)
			for {
				n, err := src.Read(buf)
				if silent.Load() {
					return // silent for good: no byte goes through, nothing is closed
				}
				if n > 0 {
					if _, werr := dst.Write(buf[:n]); werr != nil {
						break
					}
				}
				if err != nil {
					break
				}
			}
			dst.Close()
			src.Close()
			p.mu.Lock()
			delete(p.conns, dst)
			delete(p.conns, src)
			p.mu.Unlock()
		}
		p.wg.Add(2)
		go pipe(up, c)
		go pipe(c, up)
	}
}

// cut closes the listener (new connections are refused) and every open
// connection (in-flight queries fail).
func (p *tcpProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetLinger(0) // RST: the peer sees the path fail, not a clean close
		}
		c.Close()
	}
}

// hang silences every open connection for good and holds new ones silent
// until unhang.
func (p *tcpProxy) hang() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.hanging = true
	for c, silent := range p.conns {
		silent.Store(true)
		p.held = append(p.held, c)
		delete(p.conns, c)
	}
}

// unhang forwards new connections again; the silenced ones stay silent.
func (p *tcpProxy) unhang() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.hanging = false
}

// dbVia rewrites a PostgreSQL URL to go through addr.
func dbVia(db, addr string) string {
	return strings.Replace(db, "127.0.0.1:5432", addr, 1)
}

// withTimeout runs fn with a timeout context, for checks off the test goroutine.
func withTimeout(d time.Duration, fn func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	return fn(ctx)
}
