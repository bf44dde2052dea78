package web

import (
	"crypto/tls"
	"fmt"
	"os"
	"sync"
	"time"
)

// hstsValue is the Strict-Transport-Security of every response served over
// TLS: browsers keep to HTTPS for this host for a year.
const hstsValue = "max-age=31536000"

// certReloader serves the certificate of a cert/key file pair and reads the
// files again when they change (checked at most every recheck), so that a
// renewed certificate is served without a restart. A pair that fails to
// load keeps the previous certificate.
type certReloader struct {
	certFile, keyFile string
	recheck           time.Duration

	mu      sync.Mutex
	cert    *tls.Certificate
	stamp   string // modification times and sizes of the files
	checked time.Time
}

func newCertReloader(certFile, keyFile string) (*certReloader, error) {
	r := &certReloader{certFile: certFile, keyFile: keyFile, recheck: 10 * time.Second}
	stamp, err := r.fileStamp()
	if err != nil {
		return nil, err
	}
	if err := r.load(stamp); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *certReloader) fileStamp() (string, error) {
	var stamp string
	for _, f := range []string{r.certFile, r.keyFile} {
		st, err := os.Stat(f)
		if err != nil {
			return "", fmt.Errorf("tls: %w", err)
		}
		stamp += fmt.Sprintf("%d/%d;", st.ModTime().UnixNano(), st.Size())
	}
	return stamp, nil
}

func (r *certReloader) load(stamp string) error {
	cert, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		return fmt.Errorf("tls: %w", err)
	}
	r.cert, r.stamp = &cert, stamp
	return nil
}

// get is tls.Config.GetCertificate.
func (r *certReloader) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if now := time.Now(); now.Sub(r.checked) >= r.recheck {
		r.checked = now
		if stamp, err := r.fileStamp(); err == nil && stamp != r.stamp {
			_ = r.load(stamp) // a half-written renewal keeps the old certificate
		}
	}
	return r.cert, nil
}

// tlsConfig is the listener's configuration: TLS 1.2 or later, HTTP/1.1
// only (the websocket upgrade needs it).
func (r *certReloader) tlsConfig() *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: r.get, NextProtos: []string{"http/1.1"}}
}
