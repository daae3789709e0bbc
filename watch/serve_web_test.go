package watch

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/sockleak/sockleak/internal/livetest"
)

// writeWebConfig writes a self-signed certificate for 127.0.0.1, its key,
// and a web config serving TLS with them to user "prom", password
// "secret"; it returns the config's path and the certificate's pool.
func writeWebConfig(t *testing.T) (string, *x509.CertPool) {
	t.Helper()
	dir := t.TempDir()
	pool := writeCert(t, dir, "server.crt", "server.key")
	hash, err := bcrypt.GenerateFromPassword([]byte("secret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	config := "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n" +
		"basic_auth_users:\n  prom: " + string(hash) + "\n"
	if err := os.WriteFile(filepath.Join(dir, "web.yml"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, "web.yml"), pool
}

// writeCert writes a self-signed certificate for 127.0.0.1 and its key
// into dir, and returns a pool that trusts it.
func writeCert(t *testing.T, dir, certFile, keyFile string) *x509.CertPool {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "sockleak test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		certFile: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		keyFile:  pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}),
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return pool
}

// webClient returns a function that fetches s's /metrics over scheme as
// user (none: "") and returns the status.
func webClient(t *testing.T, s *Server, pool *x509.CertPool) func(scheme, user, pass string) int {
	t.Helper()
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	t.Cleanup(tr.CloseIdleConnections)
	client := &http.Client{Timeout: 5 * time.Second, Transport: tr}
	return func(scheme, user, pass string) int {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, scheme+"://"+s.Addr().String()+"/metrics", nil)
		if err != nil {
			t.Fatal(err)
		}
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s as %q: %v", scheme, user, err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
}

// With a web config, the exporter serves TLS only, and only to its users.
func TestServeWebConfig(t *testing.T) {
	livetest.Skip(t)
	path, pool := writeWebConfig(t)
	s, err := Serve(ServeOptions{Addr: "127.0.0.1:0", Interval: time.Second, WebConfigFile: path}, NewExporter(1, false))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown() //nolint:errcheck // the test's end
	status := webClient(t, s, pool)
	if got := status("https", "prom", "secret"); got != http.StatusOK {
		t.Errorf("https with the password: %d, want 200", got)
	}
	if got := status("https", "prom", "wrong"); got != http.StatusUnauthorized {
		t.Errorf("https with a wrong password: %d, want 401", got)
	}
	if got := status("https", "", ""); got != http.StatusUnauthorized {
		t.Errorf("https without a user: %d, want 401", got)
	}
	if got := status("http", "prom", "secret"); got != http.StatusBadRequest {
		t.Errorf("plain http: %d, want 400 (an HTTP request to an HTTPS server)", got)
	}

	bad := filepath.Join(t.TempDir(), "bad.yml")
	if err := os.WriteFile(bad, []byte("tls_server_config:\n  cert_file: missing.crt\n  key_file: missing.key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if s, err := Serve(ServeOptions{Addr: "127.0.0.1:0", Interval: time.Second, WebConfigFile: bad}, NewExporter(1, false)); err == nil {
		s.Shutdown() //nolint:errcheck // a server that should not have started
		t.Error("Serve with a web config naming missing files: no error")
	}
}

// deploy/web-config.yml works as its comments say: beside its certificate
// and key, it serves TLS to user prometheus, password change-me.
func TestServeExampleWebConfig(t *testing.T) {
	livetest.Skip(t)
	example, err := os.ReadFile("../deploy/web-config.yml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	pool := writeCert(t, dir, "sockleak.crt", "sockleak.key")
	path := filepath.Join(dir, "web-config.yml")
	if err := os.WriteFile(path, example, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := Serve(ServeOptions{Addr: "127.0.0.1:0", Interval: time.Second, WebConfigFile: path}, NewExporter(1, false))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown() //nolint:errcheck // the test's end
	status := webClient(t, s, pool)
	if got := status("https", "prometheus", "change-me"); got != http.StatusOK {
		t.Errorf("the example's user: %d, want 200", got)
	}
	if got := status("https", "", ""); got != http.StatusUnauthorized {
		t.Errorf("no user: %d, want 401", got)
	}
}
